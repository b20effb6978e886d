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
#include "scripts.h"

/* Makes C the rank script call for the N entries E, each with its
 * customer's profile after it (e->fields); sets an order's first_order
 * and raised. NLEASES LEASES fence it (none for timers). */
void ranks_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *const *leases, size_t nleases,
               struct entry *const *e, size_t n);

/* Makes C the call that drops the buyers whose profile expired from a
 * sample of the buyers zsets of the shards FROM to END whose OWNED flag
 * is set (N of them; daemon/lua/buyers.lua), so that value tiers rank the
 * customers that exist; sent once a second by each process for the
 * shards it owns. The sample is RANKS_TRIM_SAMPLE shared among the N. */
#define RANKS_TRIM_SAMPLE 20 /* 20 a second and process, 1.7 million a day */
void ranks_trim_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const bool *owned, unsigned from,
                    unsigned end, unsigned n);

/* Reads the rank script's REPLY into each of the N entries E: its rank,
 * and an order's rank before it. False (nothing read) when the reply is
 * out of shape. */
bool ranks_read(const redisReply *reply, struct entry *const *e, size_t n);

#endif
