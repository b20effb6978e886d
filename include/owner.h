/* owner.h — which shards this process owns (SPEC 8).
 *
 * Each process registers itself among the live ones (<prefix>processes,
 * daemon/lua/registry.lua) and, from the same ordered list as every other
 * process, works out its share (shard_is_share); it then takes the leases
 * of its share that are free, renews those it holds and lets go of those
 * no longer its share (daemon/lua/leases.lua), one round every third of
 * [redis] lease. A process that dies stops renewing: its leases run out
 * and the others take its shards within a lease and a round. One that
 * stops lets go of them at once (owner_leave).
 *
 * Ownership routes the work (a process reads only the streams of its
 * shards) and fences it: a round's commit is refused unless this process
 * still holds the lease of every shard of the round, so a process paused
 * past its lease writes nothing. Shard 0's owner also moves the inbox
 * (inbox.h) and folds the counts' tallies (tally.h). */
#ifndef NUDGED_OWNER_H
#define NUDGED_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"

/* Shard SHARD became this process's (OWNED) or stopped being. */
typedef void owner_change_fn(void *data, unsigned shard, bool owned);

struct owner_deps {
    struct rconn *conn;
    const struct scripts *scripts;
    const struct keys *keys;
    const struct config *cfg;
    owner_change_fn *changed;
    void *data;
};

struct owner;

struct owner *owner_new(const struct owner_deps *deps);

/* Runs a round when one is due (NOW_MS: the monotonic clock). Call from the
 * maintenance timer once Redis is set up. */
void owner_tick(struct owner *o, int64_t now_ms);

/* Lets go of every lease and leaves the registry (a stop): the others take
 * the shards at their next round. Reports each shard as no longer owned. */
void owner_leave(struct owner *o);

/* Whether this process owns each shard, as it last heard from Redis: a
 * flag a shard (borrowed). */
const bool *owner_shards(const struct owner *o);

/* How many shards this process owns, and of how many live processes. */
unsigned owner_owned(const struct owner *o);
unsigned owner_processes(const struct owner *o);

void owner_free(struct owner *o);

#endif
