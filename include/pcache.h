/* pcache.h — the profiles of the customers this process works on, in
 * memory (SPEC 8 "State"), bounded by [redis] cache_size.
 *
 * A profile comes in from Redis on a miss (its hash, the message hashes of
 * its dedup set, its link) and is then changed here, by customer_apply,
 * and the firings' rules (decision.h) before Redis is: it holds the profile
 * as Redis will have it once every commit sent has landed, and `version`
 * is the profile's field "v" then. Every writer of a profile hash adds
 * one to "v" (the commit; an operator or a tool should too); a commit
 * checks the version it was built on,
 * so a profile changed behind the cache (by another process, a script, an
 * erasure) fails the commit instead of being overwritten, and the caller
 * drops it and reads it again. The cache is therefore only ever a guess
 * that Redis checks: wrong, it costs a retry, never a lost update.
 *
 * The bound counts an estimate of each profile's bytes (its fields' text
 * and a fixed cost per field and per profile). A profile in use by a batch
 * is pinned and never evicted under it. */
#ifndef NUDGED_PCACHE_H
#define NUDGED_PCACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "hashid.h"

struct pcache_profile {
    char *id;
    json_t *fields;      /* owned: field -> string */
    int64_t version;     /* the field "v" once the commits sent land; 0: no hash */
    char *link;          /* owned: the user this anonymous id was merged into, or NULL */
    unsigned char *seen; /* message hashes within the dedup window, HASHID_DEDUP_LEN each */
    size_t nseen, seen_cap;
    int64_t refreshed; /* the ttl period of the last PEXPIRE sent; -1: none since read */
    const void *round; /* pstore's: the round changing it and its change's index there (NULL: none), */
    size_t change;     /* so a round finds a profile's change without a walk over its changes */
    bool loading;      /* its read from Redis is not back yet */
    char *error;       /* owned: why it could not be read (a key of the wrong type), or NULL */
    /* the cache's own */
    size_t bytes, seen_bytes;
    unsigned pins;
    bool dropped; /* out of the cache, freed at the last unpin */
    struct pcache_profile *next;
    TAILQ_ENTRY(pcache_profile) lru;
};

struct pcache;

struct pcache_stats {
    uint64_t hits, misses, evictions, stale;
    size_t bytes, profiles;
};

/* A cache of at most MAX_BYTES (0: only the profiles pinned). */
struct pcache *pcache_new(size_t max_bytes);
void pcache_free(struct pcache *c);

/* The profile of ID, or NULL (a miss); counts a hit or a miss. */
struct pcache_profile *pcache_find(struct pcache *c, const char *id);

/* A new empty profile of ID (version 0, no fields), replacing none: the
 * caller looked it up first. Pinned once. */
struct pcache_profile *pcache_add(struct pcache *c, const char *id);

void pcache_pin(struct pcache_profile *p);
/* Unpins P; then keeps the cache within its bound. */
void pcache_unpin(struct pcache *c, struct pcache_profile *p);

/* Takes P out (a failed commit, a firing that wrote its hash in Redis): the
 * next lookup misses. P stays valid while pinned. STALE counts it as a
 * profile Redis had changed behind the cache. */
void pcache_drop(struct pcache *c, struct pcache_profile *p, bool stale);
/* The same by id; nothing when it is not cached. */
void pcache_drop_id(struct pcache *c, const char *id);

/* Whether P applied the message hash H within the window; pcache_see
 * records it. */
bool pcache_seen(const struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN]);
void pcache_see(struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN]);

/* Counts P's bytes again, walking its fields (after a read). */
void pcache_resize(struct pcache *c, struct pcache_profile *p);
/* Counts the change of field KEY of P from OLD to its value now (NULL:
 * none), and P's dedup hashes again, without a walk over its fields. */
void pcache_account(struct pcache *c, struct pcache_profile *p, const char *key, json_t *old);

struct pcache_stats pcache_stats(const struct pcache *c);

#endif
