/* cmd.c — an argv builder for Redis commands (see cmd.h).
 *
 * Owned pieces (numbers, formatted text, copies) go into one arena per
 * command that grows by doubling and is reused from command to command, so
 * building a command costs no allocation in the steady state. The arena may
 * move while the command grows, so owned pieces are kept as offsets and
 * turned into pointers only when the command is sent. */
#include "cmd.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An arena or wire buffer grown by one large command is not kept for every
 * later one. */
#define CMD_ARENA_KEEP (1024 * 1024)

void cmd_init(struct cmd *c)
{
    memset(c, 0, sizeof *c);
}

static void push(struct cmd *c, const char *p, size_t len, size_t off)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->argv = util_xrealloc(c->argv, c->cap * sizeof *c->argv);
        c->lens = util_xrealloc(c->lens, c->cap * sizeof *c->lens);
        c->off = util_xrealloc(c->off, c->cap * sizeof *c->off);
    }
    c->argv[c->n] = p;
    c->lens[c->n] = len;
    c->off[c->n++] = off;
}

void cmd_add(struct cmd *c, const char *p, size_t len)
{
    push(c, p, len, CMD_BORROWED);
}

void cmd_adds(struct cmd *c, const char *s)
{
    cmd_add(c, s, strlen(s));
}

/* Room for LEN more bytes (and a NUL) in the arena; returns the offset. */
static size_t reserve(struct cmd *c, size_t len)
{
    if (c->used + len + 1 > c->size) {
        size_t size = c->size ? c->size : 256;
        while (c->used + len + 1 > size)
            size *= 2;
        c->arena = util_xrealloc(c->arena, size);
        c->size = size;
    }
    return c->used;
}

void cmd_addcopy(struct cmd *c, const void *p, size_t len)
{
    size_t off = reserve(c, len);
    memcpy(c->arena + off, p, len);
    c->arena[off + len] = '\0';
    c->used += len + 1;
    push(c, NULL, len, off);
}

void cmd_addscopy(struct cmd *c, const char *s)
{
    cmd_addcopy(c, s, strlen(s));
}

void cmd_addsv(struct cmd *c, const char *const *argv, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cmd_adds(c, argv[i]);
}

void cmd_addi(struct cmd *c, int64_t v)
{
    char tmp[UTIL_I64_LEN];
    char *p = util_i64(tmp, v);
    cmd_addcopy(c, p, (size_t)(tmp + sizeof tmp - 1 - p));
}

void cmd_addcat(struct cmd *c, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]);
    size_t off = reserve(c, len), at = off;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(c->arena + at, parts[i], l);
        at += l;
    }
    c->arena[at] = '\0';
    c->used += len + 1;
    push(c, NULL, len, off);
}

void cmd_addf(struct cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        util_fatal("bad format");
    size_t off = reserve(c, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(c->arena + off, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->used += (size_t)n + 1;
    push(c, NULL, (size_t)n, off);
}

void cmd_set_int(struct cmd *c, size_t i, int64_t v)
{
    size_t end = c->n;
    cmd_addi(c, v); /* the old text stays in the arena until reset */
    c->lens[i] = c->lens[end];
    c->off[i] = c->off[end];
    c->argv[i] = NULL;
    c->n = end;
}

/* Writes "<mark><v>\r\n" at P; returns the end. */
static char *put_header(char *p, char mark, size_t v)
{
    char tmp[UTIL_I64_LEN], *d = util_i64(tmp, (int64_t)v);
    *p++ = mark;
    size_t n = (size_t)(tmp + sizeof tmp - 1 - d);
    memcpy(p, d, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* The command in the Redis protocol, in C's reused wire buffer: what
 * hiredis would format argument by argument with its string library, in
 * one pass and no allocation in the steady state. */
static size_t to_wire(struct cmd *c)
{
    size_t len = 24 + 3;
    for (size_t i = 0; i < c->n; i++)
        len += 1 + 20 + 2 + c->lens[i] + 2;
    if (len > c->wire_size) {
        free(c->wire);
        c->wire_size = len * 2;
        c->wire = util_xmalloc(c->wire_size);
    }
    char *p = put_header(c->wire, '*', c->n);
    for (size_t i = 0; i < c->n; i++) {
        const char *a = c->off[i] != CMD_BORROWED ? c->arena + c->off[i] : c->argv[i];
        p = put_header(p, '$', c->lens[i]);
        memcpy(p, a, c->lens[i]);
        p += c->lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t)(p - c->wire);
}

int cmd_send(struct cmd *c, struct rconn *rc, redisCallbackFn *fn, void *priv)
{
    size_t len = to_wire(c);
    int r = rconn_send_wire(rc, fn, priv, c->wire, len);
    if (c->wire_size > CMD_ARENA_KEEP) { /* a rare huge command: give it back */
        free(c->wire);
        c->wire = NULL;
        c->wire_size = 0;
    }
    return r;
}

char *cmd_wire_copy(struct cmd *c, size_t *len)
{
    *len = to_wire(c);
    char *copy = util_xmalloc(*len);
    memcpy(copy, c->wire, *len);
    return copy;
}

void cmd_reset(struct cmd *c)
{
    c->n = 0;
    c->used = 0;
    if (c->size > CMD_ARENA_KEEP) {
        free(c->arena);
        c->arena = NULL;
        c->size = 0;
    }
}

void cmd_free(struct cmd *c)
{
    free(c->wire);
    free(c->argv);
    free(c->lens);
    free(c->off);
    free(c->arena);
    memset(c, 0, sizeof *c);
}
