/* entry.h — one stream entry of a batch: what was read, what it became.
 *
 * An entry of <prefix>events is a message to validate; an entry of
 * <prefix>timers:{k} is a waiting firing (or a regroup) that came due. The
 * consumer owns the entries of a batch and fills in the rest as the batch
 * runs (profile, candidates, round). */
#ifndef NUDGED_ENTRY_H
#define NUDGED_ENTRY_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "keys.h"
#include "message.h"
#include "scripts.h"
#include "tier.h"
#include "trigger.h"

struct batch;
struct pcache_profile;

struct entry {
    struct batch *b;
    const char *stream;    /* the stream it was read from (borrowed from keys) ... */
    unsigned stream_index; /* ... the index-th of its source's */
    char *id;
    char *inbox_id; /* an entry moved from the inbox: its id there (the default messageId) */
    char *raw;      /* the message field as read (the first, when given twice) */
    size_t rawlen;
    int nmessage; /* how many message fields the entry has: one is valid */
    json_t *msg;  /* parsed, with defaults filled in */
    struct message m;
    json_t *timer;   /* a timers entry's fields (all strings), else NULL */
    const char *tid; /* timer: the waiting trigger's id (in TIMER) */
    int64_t ets;     /* timer: the event time the wait started from */
    bool strict;     /* timer: the event was itself an `unless` event */
    json_t *fields;  /* the profile hash, when it was read */
    json_t *customer, *state;
    const char *moved;           /* the group the event moved the customer into */
    const struct trigger **cand; /* triggers whose `on` and `where` hold */
    size_t ncand;
    char *goals;                   /* event: the ids of the goals it is (" ID ID "), or NULL (measure.h) */
    bool ranked;                   /* RANK (and for an order RANK_BEFORE) are known (tier.h) */
    struct tier_rank rank, before; /* among the buyers after the event, and before an order */
    bool first_order, raised;      /* an order: the customer's first; it raised their revenue */
    char err[256];
    bool valid;
    bool repeat;                 /* its customer's profile had applied its messageId before */
    struct pcache_profile *prof; /* event: its customer's profile, pinned (pcache.h) */
    struct pcache_profile *from; /* a merge (m.merge_from): the anonymous id's profile, pinned */
    unsigned round;              /* which round of the batch runs it */
    char *redirect;              /* the user an anonymous customer was merged into */
    int redirects;
    bool regroup;   /* timer: compute the customer's group again (time passed) */
    bool silence;   /* timer: TID's silence came due (its time is m.ts_ms) */
    bool date;      /* timer: TID's date came due (its time is m.ts_ms) */
    int64_t rearm;  /* date timer: when to arm it again; 0: not */
    bool dates;     /* event: it sets the trait of a date trigger (its profile is read) */
    char gmid[128]; /* regroup, silence, date: the firing's messageId, "group:G@DUE", "silence:ID@DUE", "date:ID@DUE" */
};

/* Copies entry R ([id, [field, value, ...]]) of a read into E and
 * validates it: a message (TIMERS false) or a timers entry. E is zeroed
 * but for its batch; on a problem E->valid stays false and E->err says it. */
void entry_load(struct entry *e, const redisReply *r, bool timers, int64_t now_ms);

/* Whether E is an event (not a timer) of an order, whose customer's tier
 * may move. */
bool entry_is_order(const struct entry *e);

/* The field of an entry moved from the inbox that holds its id there
 * (daemon/lua/move.lua). */
#define ENTRY_INBOX_ID "inbox_id"

/* How much of an invalid entry's message the rejected stream keeps. */
#define ENTRY_REJECT_MESSAGE_MAX (64 * 1024)

/* Sends the reject of E (invalid; read from E->stream) on RC: the entry
 * goes to the rejected stream with its error and id, then is acked, in a
 * chain (rchain.h: the rejected stream is outside the shards' slots);
 * FN(PRIV) gets the ack's reply. Returns -1 when RC is down. */
int entry_reject_send(struct rconn *rc, const struct keys *k, const struct entry *e, redisCallbackFn *fn, void *priv)
    __attribute__((warn_unused_result));

/* On a Redis Cluster, where a shard's commit keeps to its shard's slot:
 * E (an event of the stream of shard STREAM_INDEX among SHARDS) is made
 * invalid, with why, when its customer is another shard's (a producer
 * that wrote it to the wrong stream: `nudged shard ID` names the right
 * one); an anonymous id of another shard to merge is let go (*MERGE_DROPPED
 * gets it, borrowed: linking ids of two shards needs the hand-over of SPEC
 * 8, not in this version). */
void entry_keep_to_shard(struct entry *e, unsigned shards, const char **merge_dropped);

/* Frees what E owns. */
void entry_clear(struct entry *e);

#endif
