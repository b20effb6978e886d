/* tz.c — just enough of RFC 8536 (TZif version 2+): the 64-bit transition
 * times and the offset each one starts. Debian's tzdata files list
 * transitions up to 2037; later times keep the last offset. */
#include "tz.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_FILE_MAX (256 * 1024)

struct zone {
    char *name;
    bool ok;        /* false: the name is remembered as unknown */
    int64_t *times; /* transition times, seconds, ascending */
    int32_t *offs;  /* the offset from each transition on */
    size_t n;
    int32_t first; /* the offset before the first transition */
};

struct tz_cache {
    char *dir;
    struct zone *z;
    size_t n;
};

struct tz_cache *tz_cache_new(const char *dir)
{
    struct tz_cache *c = util_xcalloc(1, sizeof *c);
    const char *env = getenv("TZDIR"); /* as glibc: where the zone files are */
    c->dir = util_xstrdup(dir ? dir : env && *env ? env : "/usr/share/zoneinfo");
    return c;
}

void tz_cache_free(struct tz_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->z[i].name);
        free(c->z[i].times);
        free(c->z[i].offs);
    }
    free(c->z);
    free(c->dir);
    free(c);
}

bool tz_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '/' || name[n - 1] == '/' || name[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                  ch == '+' || ch == '-' || (ch == '/' && name[i + 1] != '/' && name[i + 1] != '.');
        if (!ok)
            return false;
    }
    return true;
}

static uint64_t be(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

/* Parses the version 2 data block of TZif bytes D (LEN) into Z. */
static int parse(struct zone *z, const unsigned char *d, size_t len)
{
    if (len < 44 || memcmp(d, "TZif", 4) != 0 || d[4] < '2')
        return -1;
    uint64_t cnt[6];
    for (int i = 0; i < 6; i++)
        cnt[i] = be(d + 20 + 4 * i, 4);
    /* Skip the version 1 block: 4-byte times. */
    uint64_t skip = 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] + cnt[0];
    if (skip + 44 > len)
        return -1;
    d += skip;
    len -= skip;
    for (int i = 0; i < 6; i++)
        cnt[i] = be(d + 20 + 4 * i, 4);
    uint64_t timecnt = cnt[3], typecnt = cnt[4];
    if (typecnt == 0 || typecnt > 256 || timecnt > 10000 || 44 + timecnt * 9 + typecnt * 6 > len)
        return -1;
    const unsigned char *times = d + 44, *idx = times + timecnt * 8, *types = idx + timecnt;
    z->times = util_xcalloc(timecnt + 1, sizeof *z->times);
    z->offs = util_xcalloc(timecnt + 1, sizeof *z->offs);
    for (uint64_t i = 0; i < timecnt; i++) {
        if (idx[i] >= typecnt)
            return -1;
        z->times[i] = (int64_t)be(times + 8 * i, 8);
        z->offs[i] = (int32_t)(uint32_t)be(types + 6 * idx[i], 4);
    }
    z->n = timecnt;
    z->first = (int32_t)(uint32_t)be(types, 4);
    return 0;
}

static struct zone *load(struct tz_cache *c, const char *name)
{
    if (c->n == TZ_CACHE_MAX)
        return NULL;
    c->z = util_xrealloc(c->z, (c->n + 1) * sizeof *c->z);
    struct zone *z = &c->z[c->n++];
    memset(z, 0, sizeof *z);
    z->name = util_xstrdup(name);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "rb");
    unsigned char *d = util_xmalloc(TZ_FILE_MAX);
    size_t len = f ? fread(d, 1, TZ_FILE_MAX, f) : 0;
    if (f)
        fclose(f);
    z->ok = len > 0 && parse(z, d, len) == 0;
    free(d);
    return z;
}

int tz_offset(struct tz_cache *c, const char *name, int64_t t_ms, int32_t *off_s)
{
    if (!tz_name_valid(name))
        return -1;
    struct zone *z = NULL;
    for (size_t i = 0; i < c->n && !z; i++)
        if (strcmp(c->z[i].name, name) == 0)
            z = &c->z[i];
    if (z == NULL && (z = load(c, name)) == NULL)
        return -1;
    if (!z->ok)
        return -1;
    int64_t t = t_ms / 1000;
    size_t lo = 0, hi = z->n; /* the last transition at or before t */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->times[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    *off_s = lo == 0 ? z->first : z->offs[lo - 1];
    return 0;
}

int32_t tz_offset_or(struct tz_cache *c, const char *name, const char *fallback, int64_t t_ms)
{
    int32_t off;
    if (name && tz_offset(c, name, t_ms, &off) == 0)
        return off;
    if (fallback && tz_offset(c, fallback, t_ms, &off) == 0)
        return off;
    return 0;
}

int32_t tz_zone_offset(void *data, const char *name, int64_t t_ms)
{
    const struct tz_zone *z = data;
    return tz_offset_or(z->cache, name, z->fallback, t_ms);
}
