/* ranks.c — a round's customers ranked among the buyers (ranks.h). */
#include "ranks.h"
#include "customer.h"
#include "log.h"
#include "tier.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The revenue an order's customer had before it ("" for any other
 * event), in OLD; sets its first_order and raised. */
static void order_before(struct entry *e, char *old, size_t len)
{
    old[0] = '\0';
    if (!entry_is_order(e))
        return;
    long long count = 0, first = 0, last = 0;
    const char *ev = json_string_value(json_object_get(e->fields, "e:" CUSTOMER_ORDER_EVENT));
    e->first_order = customer_event_stats(ev, &count, &first, &last) && count == 1;
    e->raised = revenue_before(e, old, len);
}

/* E's part of the call: its customer's profile key (the buyers zsets'
 * member), PLACE (its shard's among the call's zsets, -1: not in it),
 * OLD (the revenue before an order), the revenue now for an order whose
 * shard is in the call (its score), and SCORE (its revenue when its
 * shard is not in the call). */
static void add_customer(struct cmd *c, const struct keys *k, const struct entry *e, int place, const char *old,
                         const char *score)
{
    const char *rv = json_string_value(json_object_get(e->fields, "rv"));
    keys_add_customer(c, k, e->m.customer, "p");
    cmd_addi(c, place);
    cmd_addscopy(c, old);
    cmd_adds(c, place >= 0 && entry_is_order(e) ? (rv ? rv : "0") : "");
    cmd_addscopy(c, score);
}

/* Starts C as the rank call over the buyers zsets of the shards FROM to
 * END, fenced by NLEASES LEASES. */
static void rank_begin(struct cmd *c, const struct scripts *s, const struct keys *k, unsigned from, unsigned end,
                       const char *const *leases, size_t nleases)
{
    scripts_begin(c, s, SCRIPT_RANK, (int)(end - from + nleases));
    for (unsigned i = from; i < end; i++)
        cmd_adds(c, k->buyers[i]);
    for (size_t i = 0; i < nleases; i++)
        cmd_adds(c, leases[i]);
    cmd_adds(c, k->consumer);
    cmd_addi(c, end - from);
}

/* Whether REPLY has the shape the script says, for N customers:
 * {buyers, {2 integers each}, {a revenue each}}. */
static bool shaped(const redisReply *reply, size_t n)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[1]->type != REDIS_REPLY_ARRAY ||
        reply->element[1]->elements != 2 * n || reply->element[2]->type != REDIS_REPLY_ARRAY ||
        reply->element[2]->elements != n)
        return false;
    for (size_t k = 0; k < 2 * n; k++)
        if (reply->element[1]->element[k]->type != REDIS_REPLY_INTEGER)
            return false;
    for (size_t k = 0; k < n; k++)
        if (reply->element[2]->element[k]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

/* A round's ranks being read (ranks_send): the counts so far. */
struct ranking {
    struct rconn *rc;
    const struct scripts *s;
    const struct keys *k;
    struct entry **e;
    size_t n;
    unsigned shard; /* on a Redis Cluster, the round's: the first call's */
    int64_t buyers, *higher, *above_old;
    char **old, **score;
    unsigned waiting;
    bool failed;
    char *error; /* Redis's, the first that came */
    ranks_done_fn *done;
    void *data;
};

static struct ranking *ranking_new(struct rconn *rc, const struct scripts *s, const struct keys *k,
                                   struct entry *const *e, size_t n, ranks_done_fn *done, void *data)
{
    struct ranking *g = util_xcalloc(1, sizeof *g);
    *g = (struct ranking){.rc = rc, .s = s, .k = k, .n = n, .waiting = 1, .done = done, .data = data};
    g->e = util_xcalloc(n, sizeof *g->e);
    memcpy(g->e, e, n * sizeof *e);
    g->higher = util_xcalloc(n, sizeof *g->higher);
    g->above_old = util_xcalloc(n, sizeof *g->above_old);
    g->old = util_xcalloc(n, sizeof *g->old);
    g->score = util_xcalloc(n, sizeof *g->score);
    return g;
}

static void ranking_free(struct ranking *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->old[i]);
        free(g->score[i]);
    }
    free(g->old);
    free(g->score);
    free(g->higher);
    free(g->above_old);
    free(g->e);
    free(g->error);
    free(g);
}

/* Sets E's ranks: HIGHER buyers above it, of BUYERS, and for an order
 * ABOVE_OLD above the revenue it had before. */
static void set_rank(struct entry *e, int64_t higher, int64_t buyers, int64_t above_old)
{
    e->rank = (struct tier_rank){higher, buyers};
    if (entry_is_order(e))
        e->before = tier_before(e->rank, above_old, e->first_order, e->raised);
}

/* Whether a call's REPLY can be counted; else the ranks fail. */
static bool counted(struct ranking *g, const redisReply *reply)
{
    if (shaped(reply, g->n))
        return true;
    if (reply && reply->type == REDIS_REPLY_ERROR && g->error == NULL)
        g->error = util_xstrdup(reply->str);
    else if (reply)
        log_warn("redis: a script answered out of shape", "step", "rank");
    g->failed = true;
    return false;
}

/* Adds a call's counts to those of the first: a customer who is no buyer
 * there (-1) stays none. */
static void add_counts(struct ranking *g, const redisReply *reply)
{
    g->buyers += reply->element[0]->integer;
    for (size_t i = 0; i < g->n; i++) {
        redisReply **el = reply->element[1]->element + 2 * i;
        if (g->higher[i] >= 0 && el[0]->integer >= 0)
            g->higher[i] += el[0]->integer;
        if (g->above_old[i] >= 0 && el[1]->integer >= 0)
            g->above_old[i] += el[1]->integer;
    }
}

static void ranking_end(struct ranking *g)
{
    if (--g->waiting > 0)
        return;
    for (size_t i = 0; !g->failed && i < g->n; i++)
        set_rank(g->e[i], g->higher[i], g->buyers, g->above_old[i]);
    g->done(g->data, !g->failed, g->error);
    ranking_free(g);
}

static void on_other_shard(redisAsyncContext *ac, void *r, void *priv)
{
    struct ranking *g = priv;
    (void)ac;
    if (counted(g, r))
        add_counts(g, r);
    ranking_end(g);
}

/* On a Redis Cluster: every shard but the round's, each counted with the
 * customers' revenues the first call read. */
static void send_other_shards(struct ranking *g)
{
    struct cmd c;
    cmd_init(&c);
    for (unsigned t = 0; t < g->k->shards; t++) {
        if (t == g->shard)
            continue;
        rank_begin(&c, g->s, g->k, t, t + 1, NULL, 0);
        for (size_t i = 0; i < g->n; i++)
            add_customer(&c, g->k, g->e[i], -1, g->old[i], g->score[i]);
        if (cmd_send(&c, g->rc, on_other_shard, g) != 0) {
            g->failed = true;
            break;
        }
        g->waiting++;
    }
    cmd_free(&c);
}

/* The first call answered: on one Redis, the ranks; on a Redis Cluster,
 * the round's shard's counts and the customers' revenues, with which
 * every other shard's zset is counted next. */
static void on_first(redisAsyncContext *ac, void *r, void *priv)
{
    struct ranking *g = priv;
    const redisReply *reply = r;
    (void)ac;
    if (counted(g, reply)) {
        g->buyers = reply->element[0]->integer;
        for (size_t i = 0; i < g->n; i++) {
            redisReply **el = reply->element[1]->element + 2 * i;
            g->higher[i] = el[0]->integer;
            g->above_old[i] = el[1]->integer;
            g->score[i] = util_xstrdup(reply->element[2]->element[i]->str);
        }
        if (rconn_is_cluster(g->rc))
            send_other_shards(g);
    }
    ranking_end(g);
}

int ranks_send(struct rconn *rc, const struct scripts *s, const struct keys *k, const char *const *leases,
               size_t nleases, struct entry *const *e, size_t n, ranks_done_fn *done, void *data)
{
    struct ranking *g = ranking_new(rc, s, k, e, n, done, data);
    bool apart = rconn_is_cluster(rc);
    unsigned from = apart ? e[0]->stream_index : 0, end = apart ? from + 1 : k->shards;
    g->shard = from;
    struct cmd c;
    cmd_init(&c);
    rank_begin(&c, s, k, from, end, leases, nleases);
    for (size_t i = 0; i < n; i++) {
        char old[40];
        order_before(e[i], old, sizeof old);
        g->old[i] = util_xstrdup(old);
        add_customer(&c, k, e[i], apart ? 0 : (int)keys_shard(k, e[i]->m.customer), old, "");
    }
    int sent = cmd_send(&c, rc, on_first, g);
    cmd_free(&c);
    if (sent != 0)
        ranking_free(g);
    return sent;
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
