/*
 * clock: the time, in the forms ferry uses — wall-clock milliseconds (Hawk,
 * timestamps in metadata), monotonic microseconds (durations), and ISO-8601 UTC
 * text with milliseconds ("2026-11-23T11:30:00.123Z", which sorts as text).
 */
#ifndef FERRY_CORE_CLOCK_H
#define FERRY_CORE_CLOCK_H

#include <stdint.h>

#define CLOCK_ISO_MAX 32 /* bytes for clock_iso's text, NUL included */

/* Milliseconds since the Unix epoch (wall clock). */
int64_t clock_now_ms(void);

/* Microseconds of a monotonic clock (only differences mean anything). */
uint64_t clock_mono_us(void);

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void clock_iso(int64_t ms, char out[CLOCK_ISO_MAX]);

/* The current time as clock_iso text. */
void clock_now_iso(char out[CLOCK_ISO_MAX]);

#endif
