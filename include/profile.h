/* profile.h — the customer profile in Redis (SPEC 2): its reads, and the
 * commit of what nudged changed in memory (pcache.h); the field "v" is
 * its version.
 * The layout of the hash "<prefix>{k}:ID:p" is customer.h's; the sorted set
 * "<prefix>{k}:ID:d" holds recent message and firing hashes. */
#ifndef NUDGED_PROFILE_H
#define NUDGED_PROFILE_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "customer.h"
#include "keys.h"
#include "message.h"
#include "scripts.h"

/* How long a messageId is remembered for de-duplication. */
#define PROFILE_DEDUP_WINDOW_MS (24LL * 3600 * 1000)

/* A schedule item of a customer (schedule.h), written with its commit. */
struct profile_item {
    int64_t due;
    char *member; /* owned by the round that made it */
};

/* What one round of a batch changed in one customer's profile (pcache.h),
 * for the commit script. */
struct profile_change {
    const char *customer;
    int64_t expect;            /* the version it was built on; 0: no hash */
    json_t *before;            /* borrowed: the fields the round touched, with the values they had
                                  (null: none), as customer_apply keeps them */
    json_t *after;             /* borrowed: the fields the round ends with */
    const unsigned char *seen; /* NSEEN message and firing hashes applied, HASHID_DEDUP_LEN each */
    size_t nseen;
    bool refresh, trim;               /* set the keys' time to live again; trim the dedup set */
    bool seen_ttl;                    /* set the dedup set's time to live again alone (no event came) */
    int64_t regroup_due;              /* an order's: when its active period runs out; 0: none */
    bool buyer;                       /* the buyers zset gets the customer's revenue */
    const struct profile_item *items; /* borrowed: NITEMS schedule items (delays, postponed emails) */
    size_t nitems;
    bool wrote; /* set by profile_commit_cmd: the hash is written, its version moves on */
};

/* The entries of one stream acked by a commit, borrowed. */
struct profile_acks {
    const char *stream;
    const char **ids;
    size_t n;
};

/* An anonymous id FROM folded into the user INTO in memory (pstore.h):
 * the commit moves its schedule items, deletes its keys and links it. */
struct profile_merge {
    const char *from, *into;
    int64_t expect; /* FROM's version when read; 0: no hash */
};

/* A delivery due now: its actions entry's field "delivery" (TEXT), and
 * its customer's shard, whose outbox (<prefix>actions:{k}) takes it. */
struct profile_delivery {
    char *text;
    unsigned shard;
};

struct profile_commit {
    const char *owner;         /* this process's name, the lease holder */
    const char *const *leases; /* the leases of the shards of the round's events */
    size_t nleases;
    int64_t now_ms, ttl_ms;
    const struct profile_delivery *deliveries; /* the deliveries due now */
    size_t ndeliveries;
    json_t *counts; /* the counts' increments (measure.h): trigger -> {count -> integer} */
    unsigned shard; /* the round's, whose tally list takes the counts (tally.h) */
    const struct profile_acks *acks;
    size_t nacks;
    const struct profile_merge *merges;
    size_t nmerges;
    bool delete_acked; /* nudged's own timers stream: acked entries are deleted */
};

/* Makes C the commit script call for the N changes CH under O (see
 * daemon/lua/commit.lua): its reply is 0, or the 1-based positions in CH
 * of the profiles that moved on since (minus the position in O's merges
 * of an anonymous id's), or the tally list's key when it holds another
 * type (the round's counts left out, the rest written). Sets each change's WROTE. */
void profile_commit_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const struct profile_commit *o,
                        struct profile_change *ch, size_t n);

/* The period of the keys' time to live at NOW_MS: a commit sets the time
 * to live again only when it changed since the profile's last (the keys
 * then live at least TTL_MS after the last event, and at most a 64th of
 * the dedup window longer): two commands fewer for most commits. */
int64_t profile_ttl_period(int64_t now_ms, int64_t ttl_ms);

/* Makes C the ZRANGE of CUSTOMER's dedup set, the GET of its link, and
 * the SCARD of its schedule index (read for its type alone: a commit that
 * met a key of the wrong type there would fail every time). */
void profile_seen_cmd(struct cmd *c, const struct keys *k, const char *customer);
void profile_link_cmd(struct cmd *c, const struct keys *k, const char *customer);
void profile_index_cmd(struct cmd *c, const struct keys *k, const char *customer);
/* Makes C the HGETALL of CUSTOMER's profile hash. */
void profile_read_cmd(struct cmd *c, const struct keys *k, const char *customer);

/* Makes C the forget script call erasing customer ID (SPEC 2: every key,
 * scheduled item and merged anonymous id). S NULL: EVAL with the source,
 * for a process that has not loaded the scripts. */
void profile_forget_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *id);

/* The HGETALL array FIELDS as an object of field -> string (new reference). */
json_t *profile_fields(const redisReply *fields);

#endif
