/* errlist.h — a list of error lines, so loaders report every problem, not the first. */
#ifndef NUDGED_ERRLIST_H
#define NUDGED_ERRLIST_H

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
void diag_error(const struct diag *d, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
