/*
 * url: helpers for URLs given in configuration (database and source URLs).
 */
#ifndef FERRY_CORE_URL_H
#define FERRY_CORE_URL_H

#include "core/buf.h"

/* Append url to out with secrets replaced by "***": the password of user:pass@
 * and the values of password, sslpassword, pass and pwd query parameters. A URL
 * without "://" (sqlite:PATH, a file path) is copied unchanged. Returns 0,
 * ERR_INVAL for NULL arguments, or ERR_TOOBIG (out unchanged). */
int url_redact(const char *url, struct buf *out);

#endif
