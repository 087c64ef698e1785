/*
 * clock: thin, allocation-free wrappers over clock_gettime and gmtime_r.
 */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void clock_iso(int64_t ms, char out[CLOCK_ISO_MAX])
{
    time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)sec * 1000);
    struct tm tm;
    char date[CLOCK_ISO_MAX];
    if (!gmtime_r(&sec, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(date, sizeof date, "1970-01-01T00:00:00");
    snprintf(out, CLOCK_ISO_MAX, "%.24s.%03dZ", date, frac);
}

void clock_now_iso(char out[CLOCK_ISO_MAX])
{
    clock_iso(clock_now_ms(), out);
}
