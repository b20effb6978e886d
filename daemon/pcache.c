/* pcache.c — the profiles in memory: a chained hash table by id, and a
 * least-recently-used list for the bound (see pcache.h). */
#include "pcache.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A profile with more message hashes than this leaves the cache at its
 * unpin, and is read again (its dedup set trimmed to the window by then)
 * when it comes back: the set in memory never shrinks by itself. */
#define PCACHE_SEEN_MAX 1024

/* The estimate of a profile's bytes: its text plus what the table, the
 * strings and jansson's objects cost around it. */
#define PCACHE_PROFILE_COST 256
#define PCACHE_FIELD_COST 96

TAILQ_HEAD(pcache_lru, pcache_profile);

struct pcache {
    size_t max_bytes, bytes, count, nbuckets;
    struct pcache_profile **bucket;
    struct pcache_lru lru; /* the most recently used first */
    uint64_t hits, misses, evictions, stale;
};

struct pcache *pcache_new(size_t max_bytes)
{
    struct pcache *c = util_xcalloc(1, sizeof *c);
    c->max_bytes = max_bytes;
    c->nbuckets = 64;
    c->bucket = util_xcalloc(c->nbuckets, sizeof *c->bucket);
    TAILQ_INIT(&c->lru);
    return c;
}

static void profile_free(struct pcache_profile *p)
{
    free(p->id);
    json_decref(p->fields);
    free(p->link);
    free(p->seen);
    free(p->error);
    free(p);
}

static size_t slot(const struct pcache *c, const char *id)
{
    return (size_t)util_fmix64(util_fnv1a64(0, id, strlen(id))) & (c->nbuckets - 1);
}

static void grow(struct pcache *c)
{
    size_t n = c->nbuckets * 2;
    struct pcache_profile **b = util_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++)
        for (struct pcache_profile *p = c->bucket[i], *next; p; p = next) {
            next = p->next;
            size_t k = (size_t)util_fmix64(util_fnv1a64(0, p->id, strlen(p->id))) & (n - 1);
            p->next = b[k];
            b[k] = p;
        }
    free(c->bucket);
    c->bucket = b;
    c->nbuckets = n;
}

/* Takes P out of the table and the list; frees it unless pinned. */
static void unlink_profile(struct pcache *c, struct pcache_profile *p)
{
    struct pcache_profile **at = &c->bucket[slot(c, p->id)];
    while (*at && *at != p)
        at = &(*at)->next;
    if (*at)
        *at = p->next;
    TAILQ_REMOVE(&c->lru, p, lru);
    c->bytes -= p->bytes;
    c->count--;
    p->dropped = true;
    if (p->pins == 0)
        profile_free(p);
}

void pcache_free(struct pcache *c)
{
    if (c == NULL)
        return;
    struct pcache_profile *p;
    while ((p = TAILQ_FIRST(&c->lru)) != NULL) {
        p->pins = 0; /* at exit nothing uses them any more */
        unlink_profile(c, p);
    }
    free(c->bucket);
    free(c);
}

struct pcache_profile *pcache_find(struct pcache *c, const char *id)
{
    for (struct pcache_profile *p = c->bucket[slot(c, id)]; p; p = p->next)
        if (strcmp(p->id, id) == 0) {
            c->hits++;
            TAILQ_REMOVE(&c->lru, p, lru);
            TAILQ_INSERT_HEAD(&c->lru, p, lru);
            return p;
        }
    c->misses++;
    return NULL;
}

struct pcache_profile *pcache_add(struct pcache *c, const char *id)
{
    if (c->count >= c->nbuckets)
        grow(c);
    struct pcache_profile *p = util_xcalloc(1, sizeof *p);
    p->id = util_xstrdup(id);
    p->fields = json_object();
    p->refreshed = -1;
    p->pins = 1;
    size_t k = slot(c, id);
    p->next = c->bucket[k];
    c->bucket[k] = p;
    TAILQ_INSERT_HEAD(&c->lru, p, lru);
    c->count++;
    pcache_resize(c, p);
    return p;
}

void pcache_pin(struct pcache_profile *p)
{
    p->pins++;
}

/* Evicts the least recently used profiles not pinned until within bounds. */
static void shrink(struct pcache *c)
{
    struct pcache_profile *p = TAILQ_LAST(&c->lru, pcache_lru), *prev;
    for (; p && c->bytes > c->max_bytes; p = prev) {
        prev = TAILQ_PREV(p, pcache_lru, lru);
        if (p->pins == 0) {
            c->evictions++;
            unlink_profile(c, p);
        }
    }
}

void pcache_unpin(struct pcache *c, struct pcache_profile *p)
{
    if (--p->pins > 0)
        return;
    if (p->dropped)
        profile_free(p);
    else if (p->nseen > PCACHE_SEEN_MAX)
        unlink_profile(c, p);
    else
        shrink(c);
}

void pcache_drop(struct pcache *c, struct pcache_profile *p, bool stale)
{
    if (p->dropped)
        return;
    c->stale += stale;
    unlink_profile(c, p);
}

void pcache_drop_id(struct pcache *c, const char *id)
{
    for (struct pcache_profile *p = c->bucket[slot(c, id)]; p; p = p->next)
        if (strcmp(p->id, id) == 0) {
            pcache_drop(c, p, false);
            return;
        }
}

bool pcache_seen(const struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN])
{
    for (size_t i = 0; i < p->nseen; i++)
        if (memcmp(p->seen + i * HASHID_DEDUP_LEN, h, HASHID_DEDUP_LEN) == 0)
            return true;
    return false;
}

void pcache_see(struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN])
{
    if (p->nseen == p->seen_cap) {
        p->seen_cap = p->seen_cap ? 2 * p->seen_cap : 16;
        p->seen = util_xrealloc(p->seen, p->seen_cap * HASHID_DEDUP_LEN);
    }
    memcpy(p->seen + p->nseen++ * HASHID_DEDUP_LEN, h, HASHID_DEDUP_LEN);
}

/* What field KEY of value V counts for (V NULL: nothing). */
static size_t field_bytes(const char *key, json_t *v)
{
    return v && json_is_string(v) ? PCACHE_FIELD_COST + strlen(key) + json_string_length(v) : 0;
}

static void set_bytes(struct pcache *c, struct pcache_profile *p, size_t bytes)
{
    if (!p->dropped)
        c->bytes += bytes - p->bytes;
    p->bytes = bytes;
}

void pcache_resize(struct pcache *c, struct pcache_profile *p)
{
    size_t bytes = PCACHE_PROFILE_COST + strlen(p->id) + p->seen_cap * HASHID_DEDUP_LEN;
    const char *k;
    json_t *v;
    json_object_foreach(p->fields, k, v)
    {
        bytes += field_bytes(k, v);
    }
    p->seen_bytes = p->seen_cap * HASHID_DEDUP_LEN;
    set_bytes(c, p, bytes);
}

void pcache_account(struct pcache *c, struct pcache_profile *p, const char *key, json_t *old)
{
    size_t seen = p->seen_cap * HASHID_DEDUP_LEN;
    set_bytes(c, p,
              p->bytes + field_bytes(key, json_object_get(p->fields, key)) - field_bytes(key, old) + seen -
                  p->seen_bytes);
    p->seen_bytes = seen;
}

struct pcache_stats pcache_stats(const struct pcache *c)
{
    return (struct pcache_stats){c->hits, c->misses, c->evictions, c->stale, c->bytes, c->count};
}
