/* sreader.h — read a set of Redis streams through one consumer group, at
 * least once.
 *
 * One blocking XREADGROUP at a time, over all the active streams, on its
 * own connection (a blocked read holds its connection); acks and claims go
 * on the shared command connection. After start, after a reconnect, after
 * a failed batch, and for a stream after a claim, each stream is read from
 * this consumer's pending list (id 0, then onwards) before its new entries
 * (>), as PITFALLS asks; one read mixes both. The owner gets the entries in
 * the order of their ids across the streams: when a stream gave a full
 * COUNT, entries of the others above its last are held back (they stay
 * pending, and are read again from the pending list next), so the order
 * holds from read to read. COUNT holds for each stream: a read from N
 * streams can bring N times the room.
 *
 * On a Redis Cluster, which refuses a command over keys of two slots (and
 * each stream is a shard's slot), a read names one stream, the next in
 * turn, and does not block: a blocked read would hold its master's one
 * connection. Each batch then holds one stream's entries, in order, and
 * no order across the streams is kept. A turn that brought nothing waits
 * SREADER_POLL_MS before the next: the idle latency that costs.
 */
#ifndef NUDGED_SREADER_H
#define NUDGED_SREADER_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rconn.h"
#include "scripts.h"
#include "sgroup.h"

struct sreader;

/* How many entries the owner can take now; 0 pauses reading. */
typedef size_t sreader_room_fn(void *data);

/* One entry read: ENTRY is [id, [field, value, ...]] (never a deleted
 * [id, nil]), from STREAM, the INDEX-th of the reader's streams; PENDING
 * when it was read from this consumer's pending list (read before). */
struct sreader_entry {
    const redisReply *entry;
    const char *stream;
    unsigned index;
    bool pending;
    uint64_t ms, seq; /* its id, read once: the order across streams */
};

/* Entries arrived: N borrowed entries, in the order of their ids across
 * the streams. The owner copies what it keeps and calls sreader_done once
 * it has finished with them, or sreader_release first when it wants the
 * next read at once. */
typedef void sreader_batch_fn(const struct sreader_entry *entries, size_t n, void *data);

struct sreader_opts {
    const char *const *streams; /* the streams read, NSTREAMS of them (at least one) */
    unsigned nstreams;
    const char *group, *consumer;
    int64_t claim_idle_ms;
    int64_t block_ms;
    /* Where an entry goes when it was delivered SGROUP_MAX_DELIVERIES times
     * and never acked (it may crash nudged): <prefix>rejected or <prefix>dead. */
    const char *bury_stream;
    const struct scripts *scripts;
    bool bury_delete; /* also delete it from the stream (nudged's own streams) */
};

/* On a Redis Cluster, the wait after a turn of reads that brought nothing. */
#define SREADER_POLL_MS 2

/* Creates a reader; it starts once both connections are up and
 * sreader_kick is called. OPTS strings and its streams array are borrowed
 * and must outlive it. */
struct sreader *sreader_new(struct event_base *base, struct rconn *reader, struct rconn *conn,
                            const struct sreader_opts *opts, sreader_room_fn *room, sreader_batch_fn *batch,
                            void *data);

/* Starts a read if none is running, the owner has room and not stopped. */
void sreader_kick(struct sreader *s);

/* The owner finished the entries of the last batch. OK false: something
 * failed; the pending list is read again after a short backoff. */
void sreader_done(struct sreader *s, bool ok);

/* The owner copied what it keeps of the last batch and can take another
 * while it works on that one (its room callback says how many entries):
 * the next read may start. sreader_done still follows for the batch. */
void sreader_release(struct sreader *s);

/* Next read drains the pending list first (after a reconnect or a claim). */
void sreader_reset(struct sreader *s);

/* Moves entries delivered too often to bury_stream, then claims entries idle
 * longer than claim_idle from any consumer (crashed ones) and drains them.
 * Call from the maintenance timer. */
void sreader_claim(struct sreader *s);

/* Removes consumers of the group that have no pending entries and have been
 * idle for longer than IDLE_MS (SPEC 1.1: a day), never this one. Consumers
 * with pending entries are kept: deleting one would discard its entries. */
void sreader_prune(struct sreader *s, int64_t idle_ms);

/* Removes, from an eighth of the active streams in turn (so each stream
 * every SREADER_TRIM_TURNS calls), the entries the group has read and
 * acked (whole stream nodes of them, so up to a node's worth stay) and,
 * when KEEP_MS > 0, only those older than KEEP_MS before NOW_MS (SPEC 1.1
 * events_retention: kept for inspection and replay). Never an unread or
 * pending entry. The reader's streams may be read by this group only for
 * this to hold. Call from the maintenance timer. */
#define SREADER_TRIM_TURNS 8
void sreader_trim(struct sreader *s, int64_t keep_ms, int64_t now_ms);

/* Reads stream I (ACTIVE) or no longer (every stream is read from the
 * start). Activated with TAKE_OVER, the entries of the stream pending for
 * any consumer (one that owned it before) are claimed for this one first
 * (XAUTOCLAIM from idle 0, JUSTID: not counted as a delivery) and read
 * through the pending list. An inactive stream is neither read, claimed,
 * trimmed nor pruned. */
void sreader_set_active(struct sreader *s, unsigned i, bool active, bool take_over);

/* Stops reading; a read in progress completes. */
void sreader_stop(struct sreader *s);

/* True while a read or a claim is outstanding. */
bool sreader_busy(const struct sreader *s);

void sreader_free(struct sreader *s);

#endif
