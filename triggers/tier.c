/* tier.c — value tiers from a rank (tier.h). */
#include "tier.h"
#include "util.h"

#include <string.h>

const char *tier_name(struct tier_rank r, uint32_t share)
{
    if (r.higher < 0 || r.buyers <= 0)
        return NULL;
    int64_t top = (r.buyers * (int64_t)share + UTIL_SHARE_BUCKETS - 1) / UTIL_SHARE_BUCKETS; /* ceil */
    return r.higher < top ? "top" : "regular";
}

int tier_percentile(struct tier_rank r)
{
    if (r.higher < 0 || r.buyers <= 0)
        return -1;
    return (int)((r.buyers - r.higher) * 100 / r.buyers);
}

void tier_add_view(json_t *view, struct tier_rank r, uint32_t share)
{
    const char *name = tier_name(r, share);
    if (name == NULL)
        return;
    json_object_set_new(view, "value_tier", json_string(name));
    json_object_set_new(view, "value_percentile", json_integer(tier_percentile(r)));
}

const char *tier_moved(struct tier_rank before, struct tier_rank after, uint32_t share)
{
    const char *was = tier_name(before, share), *is = tier_name(after, share);
    return is && (was == NULL || strcmp(was, is) != 0) ? is : NULL;
}

struct tier_rank tier_before(struct tier_rank after, int64_t higher_than_old, bool first, bool raised)
{
    if (first)
        return (struct tier_rank){-1, after.buyers - 1};
    /* the customer's own new revenue is above the old one when the order raised it */
    return (struct tier_rank){higher_than_old - (raised ? 1 : 0), after.buyers};
}
