/* cmd.c — an argv builder for Redis commands (see cmd.h). */
#include "cmd.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_init(struct cmd *c)
{
    memset(c, 0, sizeof *c);
}

void cmd_add(struct cmd *c, const char *p, size_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->argv = util_xrealloc(c->argv, c->cap * sizeof *c->argv);
        c->lens = util_xrealloc(c->lens, c->cap * sizeof *c->lens);
    }
    c->argv[c->n] = p;
    c->lens[c->n++] = len;
}

void cmd_adds(struct cmd *c, const char *s)
{
    cmd_add(c, s, strlen(s));
}

static void add_owned(struct cmd *c, char *s, size_t n)
{
    if (c->nowned == c->capowned) {
        c->capowned = c->capowned ? c->capowned * 2 : 8;
        c->owned = util_xrealloc(c->owned, c->capowned * sizeof *c->owned);
    }
    c->owned[c->nowned++] = s;
    cmd_add(c, s, n);
}

void cmd_addi(struct cmd *c, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    add_owned(c, util_xstrndup(tmp, (size_t)n), (size_t)n);
}

void cmd_addcopy(struct cmd *c, const void *p, size_t len)
{
    add_owned(c, util_xstrndup(p, len), len);
}

void cmd_addf(struct cmd *c, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        util_fatal("out of memory");
    add_owned(c, s, (size_t)n);
}

int cmd_send(struct cmd *c, struct rconn *rc, redisCallbackFn *fn, void *priv)
{
    return rconn_send(rc, fn, priv, (int)c->n, c->argv, c->lens);
}

void cmd_reset(struct cmd *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    c->nowned = 0;
    c->n = 0;
}

void cmd_free(struct cmd *c)
{
    cmd_reset(c);
    free(c->argv);
    free(c->lens);
    free(c->owned);
    memset(c, 0, sizeof *c);
}

void cmd_set_int(struct cmd *c, size_t i, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    size_t end = c->n;
    add_owned(c, util_xstrndup(tmp, (size_t)n), (size_t)n); /* the old text stays owned until reset */
    c->argv[i] = c->argv[end];
    c->lens[i] = c->lens[end];
    c->n = end;
}
