/* gunzip.h — a gzip (or zlib) request body inflated under a cap, so a
 * small body that inflates to gigabytes (a gzip bomb) costs no more memory
 * than the cap. */
#ifndef NUDGED_GUNZIP_H
#define NUDGED_GUNZIP_H

#include <stddef.h>

enum gunzip_result { GUNZIP_OK, GUNZIP_TOO_LARGE, GUNZIP_BAD };

/* Inflates the LEN bytes at IN. GUNZIP_OK: *OUT (malloc'd, the caller
 * frees it, NUL-terminated) holds *OUTLEN bytes, at most MAX. Otherwise
 * *OUT is NULL: the inflated body passes MAX, or IN is not gzip. */
enum gunzip_result gunzip_capped(const void *in, size_t len, size_t max, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

#endif
