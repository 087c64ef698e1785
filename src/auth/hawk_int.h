/*
 * hawk_int: internals shared by the three files of the hawk module. Only
 * src/auth/hawk*.c include this header; every other module uses hawk.h.
 *
 *   hawk.c         the core: character classes, algorithms, the MAC sink, the
 *                  normalized strings and payload hash (PROTOCOL.md sections 3-5),
 *                  results (section 8), parsing of the Authorization and
 *                  Server-Authorization headers (section 2) and of Host (section 6);
 *   hawk_verify.c  the server's checks: hawk_authenticate (section 7) and bewits
 *                  (section 11.2);
 *   hawk_sign.c    signing: hawk_client_header (sections 2, 3), hawk_response_header
 *                  and hawk_client_verify_response (section 10), hawk_bewit (11.1).
 *
 * The core exports to the other two only what they call, named hawk__ so that it is
 * visibly not API; everything else in each file is static. The MAC sink is not
 * here: verifying and signing reach it through hawk_mac() and hawk_payload_hash().
 * Nothing below allocates or keeps state.
 */
#ifndef FERRY_AUTH_HAWK_INT_H
#define FERRY_AUTH_HAWK_INT_H

#include <stddef.h>

#include "auth/hawk.h"

/* ---- character classes ----------------------------------------------------------- */

/* Is c an ASCII digit? */
int hawk__is_digit(unsigned char c);

/* Are the n bytes at p (borrowed) a non-empty attribute value: VCHAR-HAWK of
 * section 2.2, printable ASCII and space except the double quote and backslash?
 * Returns 1 or 0. */
int hawk__valid_value(const char *p, size_t n);

/* Is alg one of enum hawk_alg? Returns 1 or 0. */
int hawk__alg_known(enum hawk_alg alg);

/* ---- results --------------------------------------------------------------------- */

/* Clear *res: not ok, status 0, no message, no WWW-Authenticate. */
void hawk__result_init(struct hawk_result *res);

/* Fail with 400 and msg (copied, cut to HAWK_MESSAGE_MAX); no WWW-Authenticate. */
void hawk__fail400(struct hawk_result *res, const char *msg);

/* Fail with 401 and WWW-Authenticate: Hawk error="msg"; with msg NULL, the bare
 * challenge "Hawk" and message "Unauthorized". */
void hawk__fail401(struct hawk_result *res, const char *msg);

/* Fail with status and msg (copied); no WWW-Authenticate. */
void hawk__fail_status(struct hawk_result *res, int status, const char *msg);

/* ---- parsing --------------------------------------------------------------------- */

/* Parse a Server-Authorization value (section 10): as hawk_parse_header, but only
 * the mac, hash and ext attributes are known. *out points into value (borrowed).
 * Returns 0 (res->ok = 1), ERR_UNAUTHORIZED or ERR_INVAL with res filled. */
int hawk__parse_response_header(const char *value, struct hawk_header *out,
                                struct hawk_result *res);

#endif
