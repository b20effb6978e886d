/* tier.h — value tiers (SPEC 3): the most valuable share of buyers apart.
 * A buyer is a customer with at least one order; their rank is how many
 * buyers have a strictly higher revenue, so buyers with the same revenue
 * share a rank and a tier. With B buyers and [triggers] top_share S, the
 * top tier is the buyers ranked below ceil(S x B): with 3 buyers and 20 %,
 * ceil(0.6) = 1, so the highest revenue (and whoever ties with it) is top;
 * with 1,000 buyers, the 200 highest (and ties at the edge). Others are
 * regular; a customer without orders has no tier. The percentile is the
 * share of buyers at or below the customer's revenue: 100 for the highest.
 * Pure: the daemon gets the counts from Redis (daemon/lua/rank.lua),
 * `nudged replay` from its profiles. */
#ifndef NUDGED_TIER_H
#define NUDGED_TIER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct tier_rank {
    int64_t higher; /* buyers with a strictly higher revenue; -1: not a buyer */
    int64_t buyers; /* all buyers */
};

/* "top", "regular", or NULL for a customer who is not a buyer. SHARE is in
 * hundredths of a percent (util_parse_share). */
const char *tier_name(struct tier_rank r, uint32_t share);

/* 0..100, or -1 for a customer who is not a buyer. */
int tier_percentile(struct tier_rank r);

/* Adds "value_tier" and "value_percentile" to the customer VIEW, or
 * nothing for a customer who is not a buyer. */
void tier_add_view(json_t *view, struct tier_rank r, uint32_t share);

/* The tier an order moved its customer into: the tier after it (rank
 * AFTER) when it differs from the one before (BEFORE); else NULL. */
const char *tier_moved(struct tier_rank before, struct tier_rank after, uint32_t share);

/* The rank the customer had before an order of theirs that made their
 * revenue NEW from OLD (a revenue and the counts of buyers at the time
 * of AFTER, the rank after it): HIGHER_THAN_OLD is the buyers with a
 * revenue above OLD, the customer included; FIRST is whether it was their
 * first order (they were no buyer before). */
struct tier_rank tier_before(struct tier_rank after, int64_t higher_than_old, bool first, bool raised);

#endif
