/* jparse.h — event messages parsed as jansson would, only faster.
 *
 * jansson's parser reads its input a byte at a time through a callback and
 * copies each token into a buffer before it makes the value: about a
 * quarter of nudged's instructions per event. jparse scans the buffer in
 * place and builds the same jansson values, in the same key order, for the
 * JSON it is sure jansson reads the same way; everything else, valid or
 * not, it leaves to json_loadb, which parses it or says why not. */
#ifndef NUDGED_JPARSE_H
#define NUDGED_JPARSE_H

#include <jansson.h>
#include <stddef.h>

/* As json_loadb(BUF, LEN, 0, ERR): an object or array, or NULL with ERR
 * set. ERR is only written when the result is NULL. */
json_t *jparse_loadb(const char *buf, size_t len, json_error_t *err);

/* The fast path alone: the value, or NULL for input it leaves to jansson
 * (invalid JSON, and valid JSON it does not take: \u0000, numbers out of
 * range or longer than 63 bytes, more than 32 levels deep). Whatever it
 * returns equals json_loadb's value (tests/fuzz/fuzz_jparse.c). */
json_t *jparse_fast(const char *buf, size_t len);

#endif
