/* errlist.h — a list of error lines, so loaders report every problem, not the first. */
#ifndef NUDGED_ERRLIST_H
#define NUDGED_ERRLIST_H

#include <jansson.h>
#include <stddef.h>

struct errlist {
    char **lines; /* owned, each malloc'd */
    size_t n, cap;
};

/* Appends one printf-formatted line. Out of memory aborts (fatal). */
void errlist_add(struct errlist *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees every line; E may be reused. */
void errlist_clear(struct errlist *e);

/* Where a trigger-file problem is: the file and the trigger being loaded. */
struct diag {
    struct errlist *errs;
    const char *file;
    const char *trigger; /* the id, or NULL before it is known */
};

/* Adds "FILE: trigger "ID": PATH: message" (SPEC 3's form) to D's list. */
void errlist_diag(const struct diag *d, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* " (did you mean \"NEAR\"?)" in BUF, or "" when NEAR is NULL: the hint
 * every "unknown ..." message carries. Returns BUF. */
const char *errlist_hint(char *buf, size_t len, const char *near);

/* Reports each key of OBJ that is not one of KEYS (N of them) as
 * "AT.KEY: unknown key (did you mean "K"?); WHAT has K1, K2, ..." (AT NULL:
 * the key alone is the path). Returns how many were unknown. */
int errlist_unknown_keys(const struct diag *d, json_t *obj, const char *at, const char *const *keys, size_t n,
                         const char *what);

#endif
