/* jparse.h — JSON read as jansson would, only faster: event messages, and
 * deliveries as flat objects of strings.
 *
 * jansson's parser reads its input a byte at a time through a callback and
 * copies each token into a buffer before it makes the value, a large share
 * of nudged's work per event. jparse scans the buffer in
 * place and builds the same jansson values, in the same key order, for the
 * JSON it is sure jansson reads the same way; everything else, valid or
 * not, it leaves to json_loadb, which parses it or says why not. */
#ifndef NUDGED_JPARSE_H
#define NUDGED_JPARSE_H

#include <jansson.h>
#include <stddef.h>

#include "jspan.h"

/* As json_loadb(BUF, LEN, 0, ERR): an object or array, or NULL with ERR
 * set. ERR is only written when the result is NULL. */
json_t *jparse_loadb(const char *buf, size_t len, json_error_t *err);

/* The fast path alone: the value, or NULL for input it leaves to jansson
 * (invalid JSON, and valid JSON it does not take: \u0000, numbers out of
 * range or longer than 63 bytes, more than 32 levels deep). Whatever it
 * returns equals json_loadb's value (tests/fuzz/fuzz_jparse.c). */
json_t *jparse_fast(const char *buf, size_t len);

/* As jparse_fast, for the same input, but only the top level is built:
 * each object or array inside it is checked all through by the same rules
 * and stands as an empty one. For what needs a message's top-level members
 * only (the collector's checks), at a fraction of the cost. When MEMBERS
 * is given, the top-level object's members are noted there (at most MAX;
 * *N is how many, or -1 when there were more), as jspan_members would. */
json_t *jparse_shallow(const char *buf, size_t len, struct jspan_member *members, int max, int *n);

/* A flat object of strings, as nudged writes a delivery: its members in
 * order, the text of all of them in one allocation. Read this way rather
 * than as json_t values, a delivery is one allocation to build, look up
 * and free, not one per member. */
#define JPARSE_FLAT_MAX 32
struct jparse_flat {
    size_t n;
    char *text;
    const char *key[JPARSE_FLAT_MAX], *val[JPARSE_FLAT_MAX];
};

/* BUF as such an object, taken as jansson would: 0, or -1 (F empty) for
 * anything else, valid JSON or not (a value that is not a string, \u0000,
 * more than JPARSE_FLAT_MAX members), which the caller reads with jansson. */
int jparse_flat_parse(struct jparse_flat *f, const char *buf, size_t len);

/* OBJ's members, a value that is not a string as "": 0, or -1 when OBJ is
 * not an object or has more than JPARSE_FLAT_MAX members. */
int jparse_flat_from_json(struct jparse_flat *f, const json_t *obj);

/* KEY's value (the last, for a key given twice, as jansson keeps it), or NULL. */
const char *jparse_flat_get(const struct jparse_flat *f, const char *key);

/* As a jansson object (NULL without memory). */
json_t *jparse_flat_to_json(const struct jparse_flat *f);

void jparse_flat_free(struct jparse_flat *f);

#endif
