/* ranks.h — where a round's customers rank among the buyers, for value
 * tiers (tier.h): one call of the rank script (daemon/lua/rank.lua),
 * which first puts the round's orders' revenues in their shards' buyers
 * zsets, so the ranks count them, and sums the counts over the shards,
 * fenced by the shards' leases as a commit is. */
#ifndef NUDGED_RANKS_H
#define NUDGED_RANKS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmd.h"
#include "entry.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"

/* The ranks of the N entries E of a round (each with its customer's
 * profile after it, e->fields; an order's first_order and raised are set
 * too), fenced by NLEASES LEASES (none for timers): on one Redis one call
 * of the rank script; on a Redis Cluster, whose scripts keep to one slot,
 * a call to the round's shard (a batch is one shard's there: its orders
 * written, its customers' revenues read, fenced) and then one to each
 * other shard, the counts summed. DONE(DATA, OK, ERROR) runs once all
 * are answered, the entries' ranks set when OK; ERROR is Redis's error
 * when one came (else NULL). Returns -1 (DONE not called) when RC is
 * down. */
typedef void ranks_done_fn(void *data, bool ok, const char *error);
int ranks_send(struct rconn *rc, const struct scripts *s, const struct keys *k, const char *const *leases,
               size_t nleases, struct entry *const *e, size_t n, ranks_done_fn *done, void *data);

/* Makes C the call that drops the buyers whose profile expired from a
 * sample of the buyers zsets of the shards FROM to END whose OWNED flag
 * is set (N of them; daemon/lua/buyers.lua), so that value tiers rank the
 * customers that exist; sent once a second by each process for the
 * shards it owns. The sample is RANKS_TRIM_SAMPLE shared among the N. */
#define RANKS_TRIM_SAMPLE 20 /* 20 a second and process, 1.7 million a day */
void ranks_trim_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const bool *owned, unsigned from,
                    unsigned end, unsigned n);

#endif
