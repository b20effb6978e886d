/* ranks.c — a round's customers ranked among the buyers (ranks.h). */
#include "ranks.h"
#include "customer.h"
#include "tier.h"

#include <stdio.h>
#include <stdlib.h>

/* The revenue E's customer had before E (an order), as text; returns
 * whether E raised it. */
static bool revenue_before(const struct entry *e, char *out, size_t len)
{
    struct customer_update u;
    customer_update_init(&u, &e->m, e->msg);
    const char *rv = json_string_value(json_object_get(e->fields, "rv"));
    double added = u.has_revenue ? u.revenue : 0;
    snprintf(out, len, "%.17g", (rv ? strtod(rv, NULL) : 0) - added);
    customer_update_clear(&u);
    return added > 0;
}

/* E's part of the call: its customer's profile key (the buyers zsets'
 * member) and shard, for an order the revenue before it and the revenue now (its
 * score), else "" twice. */
static void add_customer(struct cmd *c, const struct keys *k, struct entry *e)
{
    char old[40] = "";
    const char *rv = NULL;
    if (entry_is_order(e)) {
        rv = json_string_value(json_object_get(e->fields, "rv"));
        long long count = 0, first = 0, last = 0;
        const char *ev = json_string_value(json_object_get(e->fields, "e:" CUSTOMER_ORDER_EVENT));
        e->first_order = customer_event_stats(ev, &count, &first, &last) && count == 1;
        e->raised = revenue_before(e, old, sizeof old);
    }
    keys_add_customer(c, k, e->m.customer, "p");
    cmd_addi(c, keys_shard(k, e->m.customer));
    cmd_addscopy(c, old);
    cmd_adds(c, entry_is_order(e) ? (rv ? rv : "0") : "");
}

void ranks_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *const *leases, size_t nleases,
               struct entry *const *e, size_t n)
{
    scripts_begin(c, s, SCRIPT_RANK, (int)(k->shards + nleases));
    for (unsigned i = 0; i < k->shards; i++)
        cmd_adds(c, k->buyers[i]);
    for (size_t i = 0; i < nleases; i++)
        cmd_adds(c, leases[i]);
    cmd_adds(c, k->consumer);
    cmd_addi(c, k->shards);
    for (size_t i = 0; i < n; i++)
        add_customer(c, k, e[i]);
}

/* Whether REPLY has the shape the script says, for N customers:
 * {buyers, {2 integers each}}. */
static bool shaped(const redisReply *reply, size_t n)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[1]->type != REDIS_REPLY_ARRAY || reply->element[1]->elements != 2 * n)
        return false;
    for (size_t k = 0; k < 2 * n; k++)
        if (reply->element[1]->element[k]->type != REDIS_REPLY_INTEGER)
            return false;
    return true;
}

bool ranks_read(const redisReply *reply, struct entry *const *e, size_t n)
{
    if (!shaped(reply, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        redisReply **el = reply->element[1]->element + 2 * i;
        e[i]->rank = (struct tier_rank){el[0]->integer, reply->element[0]->integer};
        if (entry_is_order(e[i]))
            e[i]->before = tier_before(e[i]->rank, el[1]->integer, e[i]->first_order, e[i]->raised);
    }
    return true;
}

void ranks_trim_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const bool *owned, unsigned from,
                    unsigned end, unsigned n)
{
    scripts_begin(c, s, SCRIPT_BUYERS, (int)n);
    for (unsigned i = from; i < end; i++)
        if (owned[i])
            cmd_adds(c, k->buyers[i]);
    cmd_addi(c, (RANKS_TRIM_SAMPLE + n - 1) / n);
}
