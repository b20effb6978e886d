/* sgroup.h — the upkeep of a consumer group on one stream, apart from
 * reading it (sreader.h): an entry delivered too often set aside, the
 * consumers gone idle with nothing pending removed, the entries every
 * consumer acked trimmed. Each is one command sent, best effort: what
 * fails is tried again at the caller's next turn, and logged. */
#ifndef NUDGED_SGROUP_H
#define NUDGED_SGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "rconn.h"
#include "scripts.h"

/* The stream and group an upkeep step works on, borrowed: the names must
 * outlive the connection (a reply may come after the call returns). */
struct sgroup {
    struct rconn *conn;
    const struct scripts *scripts;
    const char *stream, *group;
    const char *consumer; /* this process's name in the group */
};

/* Moves entry ID, delivered COUNT times and never completed, to the
 * stream TO with the reason (a delivery's JSON as its fields, as a dead
 * delivery has them), then acks it (and deletes it from the stream when
 * DELETE: nudged's own streams; the events streams belong to the
 * producers, and other groups may read them): read, copied and acked in
 * a chain (rchain.h), as TO is outside the shards' slots. DONE(DATA)
 * runs once it is over, done or not (said in the log): a claim waits for
 * it, so that it does not take the entry first. */
typedef void sgroup_done_fn(void *data);
void sgroup_bury(const struct sgroup *g, const char *id, long long count, const char *to, bool delete,
                 sgroup_done_fn *done, void *data);

/* Sets aside (sgroup_bury) the entries of XPENDING's REPLY ([id,
 * consumer, idle ms, deliveries] each) delivered SGROUP_MAX_DELIVERIES
 * times or more, then calls THEN(DATA) once all are over: a claim after
 * them does not take one first. */
#define SGROUP_MAX_DELIVERIES 5
void sgroup_bury_pending(const struct sgroup *g, const redisReply *reply, const char *to, bool delete,
                         sgroup_done_fn *then, void *data);

/* Claims for this consumer every entry of the stream pending for any
 * consumer (one that owned it before), a page at a time (XAUTOCLAIM from
 * idle 0, JUSTID: not counted as a delivery), after setting aside those
 * delivered too often (a take-over must not give a poison entry another
 * life). It goes on while STILL(DATA) holds; DONE(DATA) runs at the end,
 * also when it gave up (said in the log: the rest are claimed once idle). */
typedef bool sgroup_still_fn(void *data);
void sgroup_take_over(const struct sgroup *g, const char *to, bool delete, sgroup_still_fn *still, sgroup_done_fn *done,
                      void *data);

/* Removes the consumers of the group, other than this one, idle for at
 * least IDLE_MS with nothing pending. */
void sgroup_prune(const struct sgroup *g, int64_t idle_ms);

/* Trims the entries the group has read and acked (daemon/lua/trim.lua),
 * keeping those of the last KEEP_MS before NOW_MS (0: none kept). */
void sgroup_trim(const struct sgroup *g, int64_t keep_ms, int64_t now_ms);

#endif
