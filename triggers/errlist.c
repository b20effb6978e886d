/* errlist.c — collect error lines for config and trigger loading. */
#include "errlist.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void errlist_add(struct errlist *e, const char *fmt, ...)
{
    va_list ap;
    char *line = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&line, fmt, ap);
    va_end(ap);
    if (n < 0)
        util_fatal("out of memory");
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->lines = util_xrealloc(e->lines, e->cap * sizeof *e->lines);
    }
    e->lines[e->n++] = line;
}

void errlist_clear(struct errlist *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->lines[i]);
    free(e->lines);
    e->lines = NULL;
    e->n = e->cap = 0;
}

void diag_error(const struct diag *d, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->trigger)
        errlist_add(d->errs, "%s: trigger \"%s\": %s: %s", d->file, d->trigger, path, msg);
    else
        errlist_add(d->errs, "%s: %s: %s", d->file, path, msg);
}
