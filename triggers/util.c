/* util.c — the few helpers every module needs: checked allocation, bounded buffers. */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void util_fatal(const char *msg)
{
    fprintf(stderr, "nudged: fatal: %s\n", msg);
    exit(3);
}

void *util_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        util_fatal("out of memory");
    return p;
}

void *util_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        util_fatal("out of memory");
    return p;
}

void *util_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        util_fatal("out of memory");
    return q;
}

char *util_xstrdup(const char *s)
{
    return util_xstrndup(s, strlen(s));
}

char *util_i64(char buf[UTIL_I64_LEN], int64_t v)
{
    char *p = buf + UTIL_I64_LEN - 1;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *p = '\0';
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    return p;
}

char *util_xstrndup(const char *s, size_t n)
{
    char *p = util_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void util_buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

int util_buf_add(struct buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = util_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void util_buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max)
        n = b->max;
    if (n + 1 > b->cap) {
        b->data = util_xrealloc(b->data, n + 1);
        b->cap = n + 1;
        b->data[b->len] = '\0';
    }
}

int util_buf_adds(struct buf *b, const char *s)
{
    return util_buf_add(b, s, strlen(s));
}

int util_buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return util_buf_add(b, small, (size_t)n);
    char *big = util_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = util_buf_add(b, big, (size_t)n);
    free(big);
    return rc;
}

char *util_buf_steal(struct buf *b)
{
    char *p = b->data ? b->data : util_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void util_buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int util_parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* Levenshtein distance, bounded to short words (keys and operators). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *util_nearest(const char *word, const char *const *choices, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3; /* suggest only what is at most two edits away */
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, choices[i]);
        if (d < best_d) {
            best_d = d;
            best = choices[i];
        }
    }
    return best;
}

void util_resolve(const char *basedir, const char *name, char *out, size_t outlen)
{
    if (name[0] == '/')
        snprintf(out, outlen, "%s", name);
    else
        snprintf(out, outlen, "%s/%s", basedir, name);
}

char *util_files_read(const struct util_files *f, const char *name, size_t max, char *full, size_t fulllen)
{
    util_resolve(f ? f->basedir : ".", name, full, fulllen);
    return f && f->read ? f->read(f->data, full, max) : NULL;
}

uint64_t util_fnv1a64(uint64_t h, const void *s, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

uint32_t util_fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

uint64_t util_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

int util_parse_share(const char *s, uint32_t *buckets)
{
    uint32_t whole = 0, frac = 0;
    int nwhole = 0, nfrac = 0;
    for (; *s >= '0' && *s <= '9' && nwhole < 4; s++, nwhole++)
        whole = whole * 10 + (uint32_t)(*s - '0');
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9' && nfrac < 3; s++, nfrac++)
            frac = frac * 10 + (uint32_t)(*s - '0');
    if (nwhole == 0 || nfrac > 2 || s[0] != '%' || s[1] != '\0')
        return -1;
    if (nfrac == 1)
        frac *= 10;
    uint32_t b = whole * 100 + frac;
    if (b > UTIL_SHARE_BUCKETS)
        return -1;
    *buckets = b;
    return 0;
}

char *util_json_escape(char *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\') {
            *o++ = (char)*p;
        } else if (*p == '"' || *p == '\\' || *p == '\n') {
            *o++ = '\\';
            *o++ = *p == '\n' ? 'n' : (char)*p;
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 15];
            o += 6;
        }
    }
    return o;
}
