/* errlist.c — collect error lines for config and trigger loading. */
#include "errlist.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void errlist_diag(const struct diag *d, const char *path, const char *fmt, ...)
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

const char *errlist_hint(char *buf, size_t len, const char *near)
{
    if (near)
        snprintf(buf, len, " (did you mean \"%s\"?)", near);
    else if (len > 0)
        buf[0] = '\0';
    return buf;
}

int errlist_unknown_keys(const struct diag *d, json_t *obj, const char *at, const char *const *keys, size_t n,
                         const char *what)
{
    const char *k;
    json_t *v;
    int unknown = 0;
    json_object_foreach(obj, k, v)
    {
        size_t i;
        for (i = 0; i < n && strcmp(k, keys[i]) != 0; i++)
            ;
        if (i < n)
            continue;
        char path[512], hint[160], list[512] = "";
        for (i = 0; i < n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", keys[i]);
        snprintf(path, sizeof path, "%s%s%s", at ? at : "", at ? "." : "", k);
        errlist_diag(d, path, "unknown key%s; %s has %s", errlist_hint(hint, sizeof hint, util_nearest(k, keys, n)),
                     what, list);
        unknown++;
    }
    return unknown;
}
