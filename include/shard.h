/* shard.h — which shard a customer belongs to (SPEC 8).
 *
 * A customer belongs to shard fnv1a32(ID) mod shards, ID being the
 * message's customer (message.h: its userId when it has one, else its
 * anonymousId). Its events go to that shard's stream,
 * <prefix><stream>:{k} (keys_shard_stream), so one customer's events stay
 * in order whoever writes them. */
#ifndef NUDGED_SHARD_H
#define NUDGED_SHARD_H

#include <stdbool.h>

/* The shard of customer ID among SHARDS (0 or 1: there is one, shard 0). */
unsigned shard_of(const char *id, unsigned shards);

/* Whether shard K is the share of the INDEX-th (from 0) of N live
 * processes, ordered by name: k mod N. Every process computes the same
 * split from the same list, and each gets floor or ceil of shards / N;
 * processes past the number of shards get none (hot standbys). */
bool shard_is_share(unsigned k, unsigned index, unsigned n);

/* The shards one script call names together, from FROM on, of the
 * SHARDS whose OWNED flag is set: every one to the end on one Redis, and
 * only the first on a Redis Cluster (ONE_EACH), whose scripts keep to one
 * slot. Returns the end of that run; *N gets how many owned shards it
 * holds (0: none is left). A call a shard cost one Redis more than the
 * lookups of empty keys it saves. */
unsigned shard_run(const bool *owned, unsigned shards, unsigned from, bool one_each, unsigned *n);

#endif
