/* consumer.c — from a batch of stream entries to deliveries, at least once.
 *
 * Two sources feed it, one batch at a time: the events streams of the
 * shards this process owns (owner.h), and their timers streams
 * (<prefix>timers:{k}), where the scheduler puts firings that waited
 * (delay, unless). A batch runs in
 * phases: (1) the profiles of its customers that are not in memory
 * (pstore.h) are read, in one pipelined round trip; (2) each valid event
 * is applied to its customer's profile in memory by customer_apply, the
 * code replay uses (invalid ones go to the rejected stream); (3) triggers
 * are evaluated in C, and each firing decided on the profile by the rules
 * replay uses too (decision.h); (4) all of it, the profiles' changes,
 * deliveries, schedule items, counts and the entries' acks, is written
 * in one commit, fenced by the shards' leases and checked against each
 * profile's version. A timer's batch has no (2). An entry is acked by the
 * commit that writes its work, so a crash anywhere repeats work that was
 * not written, and the hashes in the dedup set make a repeated message
 * harmless.
 *
 * When the triggers have score or set actions, a firing changes what the
 * customer's next event sees; then a batch runs in rounds, the n-th event of
 * each customer in round n, so every customer's events are applied and
 * judged strictly in order (as `nudged replay` does). Otherwise one round.
 */
#include "consumer.h"
#include "arms.h"
#include "clock.h"
#include "cmd.h"
#include "customer.h"
#include "entry.h"
#include "firing.h"
#include "hashid.h"
#include "judge.h"
#include "log.h"
#include "measure.h"
#include "message.h"
#include "pstore.h"
#include "ranks.h"
#include "rounds.h"
#include "sreader.h"
#include "template.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct source {
    struct consumer *c;
    struct sreader *reader;
    const char *const *streams; /* the shards' events streams, or their timers streams (shard k's at k) */
    unsigned nstreams;
    bool timers;
};

struct batch {
    struct consumer *c;
    struct source *src;
    struct entry *e;
    size_t n;
    size_t outstanding;
    bool failed;
    int phase;
    unsigned round, nrounds;
    unsigned redirect_round; /* the round put in after this one for redirected events, 0: none yet */
    int64_t now_ms;
    json_t *now;                  /* now_ms as ISO-8601, what templates see */
    struct trigger_set *set;      /* a reference: a reload cannot free it under us */
    struct pstore_round *pr;      /* the round's work on its profiles */
    bool reads_done;              /* PHASE_READS: every read is back */
    struct stats_pending pending; /* the round's counts, added once committed */
    TAILQ_ENTRY(batch) reading;   /* in the consumer's queue while in PHASE_READS */
};

struct consumer {
    struct consumer_deps d;
    struct source src[CONSUMER_SOURCES];
    unsigned inflight; /* batches being worked on (redis.pipeline) */
    struct cmd call;
    const struct trigger **fired; /* scratch for the candidates of one entry */
    size_t fired_cap;
    const struct counter **hits; /* scratch for the counters of one entry */
    size_t hits_cap;
    struct template *unsubscribe; /* [smtp] unsubscribe_url, NULL when unset */
    EVP_MD *sha256;               /* fetched once for the webhook-ids; NULL: fetched per id */
    struct tz_zone zone_of;       /* the customer's clock (customer.local) ... */
    struct eval_zone zone;        /* ... as eval_ctx reads it */
    struct pstore *store;         /* the profiles it works on */
    TAILQ_HEAD(, batch) reading;  /* batches reading profiles, in the order they started */
};

static void phase_two(struct batch *b);
static void start_round(struct batch *b);
static bool send_ranks(struct batch *b);
static void apply_round(struct consumer *c, struct batch *b);
static void on_store_step(void *data);
static void batch_step(struct batch *b);
static void apply_ready(struct consumer *c);

/* The phases of a round: the reads of the profiles not in memory, their
 * update and commit (a timer's profile read), then (when the triggers use
 * value tiers) the ranks of its customers, then the firings. */
enum { PHASE_PROFILES = 1, PHASE_FIRINGS = 2, PHASE_RANKS = 3, PHASE_READS = 4 };

static void release_profile(struct entry *e)
{
    if (e->prof) {
        pstore_release(e->b->c->store, e->prof);
        e->prof = NULL;
    }
    if (e->from) {
        pstore_release(e->b->c->store, e->from);
        e->from = NULL;
    }
}

static void batch_free(struct batch *b)
{
    stats_pending_end(&b->pending, b->c->d.stats, false);
    pstore_round_end(b->pr);
    for (size_t i = 0; i < b->n; i++) {
        release_profile(&b->e[i]);
        entry_clear(&b->e[i]);
    }
    free(b->e);
    json_decref(b->now);
    trigger_set_free(b->set);
    free(b);
}

static void batch_finish(struct batch *b)
{
    struct consumer *c = b->c;
    bool ok = !b->failed;
    if (ok)
        c->d.stats->redis_refused_ms = 0; /* Redis takes writes again */
    struct sreader *r = b->src->reader;
    c->inflight--;
    batch_free(b);
    sreader_done(r, ok);
    for (int i = 0; i < CONSUMER_SOURCES; i++) /* the other source may have waited for room */
        sreader_kick(c->src[i].reader);
}

/* One reply of the batch came back; moves to the next phase at the last. */
static void batch_step(struct batch *b)
{
    if (--b->outstanding > 0)
        return;
    if (b->phase == PHASE_READS) {
        b->reads_done = true;
        apply_ready(b->c);
        return;
    }
    if (b->phase == PHASE_PROFILES && !b->failed && trigger_set_uses_tiers(b->set) && send_ranks(b))
        return;
    if ((b->phase == PHASE_PROFILES || b->phase == PHASE_RANKS) && !b->failed) {
        phase_two(b);
        return;
    }
    stats_pending_end(&b->pending, b->c->d.stats, !b->failed); /* the commit is answered */
    if (!b->failed && ++b->round < b->nrounds)
        start_round(b);
    else
        batch_finish(b);
}

/* Applies the rounds whose reads are back, in the order they started: a
 * batch whose profiles were all in memory must not apply before an
 * earlier one still reading, which may hold the same customers' earlier
 * events. */
static void apply_ready(struct consumer *c)
{
    struct batch *b;
    while ((b = TAILQ_FIRST(&c->reading)) != NULL && b->reads_done) {
        TAILQ_REMOVE(&c->reading, b, reading);
        b->phase = PHASE_PROFILES;
        b->outstanding = 1; /* held until the commit is sent */
        if (!b->failed)
            apply_round(c, b);
        batch_step(b);
    }
}

/* One answer of the round's profile reads or commit (pstore.h). */
static void on_store_step(void *data)
{
    batch_step(data);
}

static void redis_error(struct consumer *c, const char *err, const char *what)
{
    stats_redis_error(c->d.stats, err, what, clock_now_ms());
}

static bool reply_failed(struct batch *b, const redisReply *r, const char *what)
{
    if (r == NULL) {
        b->failed = true;
        return true;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        redis_error(b->c, r->str, what);
        b->failed = true;
        return true;
    }
    return false;
}

static void on_simple(redisAsyncContext *ac, void *r, void *priv)
{
    struct batch *b = priv;
    (void)ac;
    reply_failed(b, r, "ack");
    batch_step(b);
}

/* A request sent (RC 0) is one answer more to wait for; else B failed. */
static void count_sent(struct batch *b, int rc)
{
    if (rc == 0)
        b->outstanding++;
    else
        b->failed = true;
}

static void send_or_fail(struct batch *b, redisCallbackFn *fn, void *priv)
{
    count_sent(b, cmd_send(&b->c->call, b->c->d.conn, fn, priv));
}

static void send_reject(struct entry *e, redisCallbackFn *fn)
{
    count_sent(e->b, entry_reject_send(e->b->c->d.conn, e->b->c->d.keys, e, fn, e));
}

static void on_rejected(redisAsyncContext *ac, void *r, void *priv)
{
    struct entry *e = priv;
    (void)ac;
    if (!reply_failed(e->b, r, "reject")) {
        e->b->c->d.stats->events_rejected++;
        log_info("event rejected", "id", e->id, "error", e->err);
    }
    batch_step(e->b);
}

/* E's customer is an anonymous id merged into TO: the event is applied to
 * TO in a round put in right after this one, so it comes after the merge
 * and before the person's next event, as replay has it (a few hops at
 * most: links never form a loop, but a bound keeps a broken link from
 * spinning). */
static void redirect(struct entry *e, const char *to, size_t len)
{
    struct batch *b = e->b;
    release_profile(e);
    if (++e->redirects > 3) {
        snprintf(e->err, sizeof e->err, "the customer id links on and on (last: %.64s)", to);
        e->valid = false;
        send_reject(e, on_rejected);
        return;
    }
    free(e->redirect);
    e->redirect = util_xstrndup(to, len);
    e->m.customer = e->redirect;
    e->m.merge_from = NULL;
    if (b->redirect_round != b->round + 1) {
        for (size_t i = 0; i < b->n; i++)
            if (b->e[i].round > b->round)
                b->e[i].round++;
        b->nrounds++;
        b->redirect_round = b->round + 1;
    }
    e->round = b->round + 1;
}

static void grow_scratch(struct consumer *c, const struct trigger_set *set)
{
    size_t cap = trigger_set_count(set) + 1, hcap = trigger_set_counter_count(set) + 1;
    if (cap > c->fired_cap) {
        c->fired = util_xrealloc(c->fired, cap * sizeof *c->fired);
        c->fired_cap = cap;
    }
    if (hcap > c->hits_cap) {
        c->hits = util_xrealloc(c->hits, hcap * sizeof *c->hits);
        c->hits_cap = hcap;
    }
}

/* The goals E is (their ids), which may convert firings of its customer
 * (decision_convert). */
static void find_goals(const struct trigger_set *set, struct entry *e, const struct eval_ctx *ctx)
{
    char hits[TRIGGER_GOAL_HITS_LEN];
    free(e->goals);
    e->goals = trigger_set_goal_hits(set, &e->m, ctx, hits, sizeof hits) ? util_xstrdup(hits) : NULL;
}

static bool in_round(const struct batch *b, const struct entry *e)
{
    return e->round == b->round && e->valid;
}

/* Applies E to its customer's profile in memory, once (customer_apply,
 * as replay does): a messageId the profile applied within the dedup window
 * is a repeat. Keeps the profile after it when E is judged. */
static void apply_event(struct consumer *c, struct batch *b, struct entry *e)
{
    struct pcache_profile *p = e->prof;
    struct path_memo memo = {0};
    struct eval_ctx ctx = {e->msg, NULL, NULL, b->now, b->now_ms, NULL, &memo, NULL};
    e->ncand = 0; /* a redirected event starts again */
    e->dates = trigger_set_touches_dates(b->set, e->msg);
    judge_keep(e, c->fired, trigger_set_candidates(b->set, &e->m, &ctx, c->fired, c->fired_cap));
    find_goals(b->set, e, &ctx);
    struct customer_update u;
    customer_update_init(&u, &e->m, e->msg);
    u.counters = c->hits;
    u.ncounters = trigger_set_counters_hit(b->set, &e->m, &ctx, c->hits, c->hits_cap);
    e->repeat = !pstore_apply(b->pr, p, e->m.message_id, &u, entry_is_order(e), b->now_ms, &e->moved);
    customer_update_clear(&u);
    if (e->repeat)
        c->d.stats->events_duplicate++;
    bool judged = e->ncand > 0 || e->dates || (e->moved && trigger_set_has_moves(b->set)) ||
                  (entry_is_order(e) && trigger_set_has_tier_moves(b->set));
    if (judged) /* as they are now: the next application copies them first (pstore.h) */
        e->fields = json_incref(p->fields);
}

/* The leases of the shards whose streams the round's events came from. */
static size_t round_leases(const struct batch *b, const char **leases)
{
    size_t n = 0;
    bool *seen = util_xcalloc(b->src->nstreams, sizeof *seen);
    for (size_t i = 0; i < b->n; i++) {
        const struct entry *e = &b->e[i];
        if (in_round(b, e) && !seen[e->stream_index]) {
            seen[e->stream_index] = true;
            leases[n++] = b->c->d.keys->leases[e->stream_index];
        }
    }
    free(seen);
    return n;
}

/* The round's commit (pstore.h): the acks of its entries with the rest,
 * fenced by the leases of its events' shards (a timer is not: its
 * profile's version guards it); its counts go to the tally list of the
 * shard of its first entry (any shard's list is summed alike). */
static void send_commit(struct batch *b)
{
    const char **leases = util_xcalloc(b->n, sizeof *leases);
    const struct entry *first = NULL;
    for (size_t i = 0; i < b->n; i++)
        if (in_round(b, &b->e[i])) {
            pstore_ack(b->pr, b->e[i].stream, b->e[i].id);
            first = first ? first : &b->e[i];
        }
    size_t nleases = b->src->timers ? 0 : round_leases(b, leases);
    unsigned shard = first ? first->stream_index : 0;
    b->outstanding += pstore_commit(b->pr, leases, nleases, shard, b->now_ms, b->src->timers);
    free(leases);
}

/* A timer's profile as it is now (in memory, checked by the commit), to
 * judge it by; for a regroup, its group computed again as time passed
 * (customer_regroup): a move is written with the commit and judged, no
 * move is not. An erased or expired customer's profile (no fields) is not
 * regrouped. */
static void prepare_timer(struct consumer *c, struct batch *b, struct entry *e)
{
    pstore_check(b->pr, e->prof); /* judged from memory: Redis must still have it so */
    if (e->regroup) {
        if (json_object_size(e->prof->fields) == 0)
            return;
        json_t *before, *fields = pstore_edit(b->pr, e->prof, &before);
        e->moved = customer_regroup(fields, e->m.ts_ms, c->d.cfg->triggers_active_period_ms, before);
        if (e->moved == NULL)
            return;
    }
    e->fields = json_incref(e->prof->fields);
}

/* The round's merges, before its events (as replay has them: an
 * anonymous id's events after its merge go on as the user's): each folds
 * an anonymous id's profile into its user's in memory, committed with the
 * round (pstore_merge). One whose anonymous profile cannot be read is
 * left to the event's own reading. */
static void apply_merges(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (in_round(b, e) && e->from && e->prof && !e->from->error && !e->prof->error)
            pstore_merge(b->pr, e->prof, e->from);
    }
}

/* The reads of the round are back: its merges, then its events in order.
 * An entry whose customer's keys cannot be read (a key of the wrong type)
 * is rejected; one whose customer was merged into a user goes on as the
 * user. */
static void apply_round(struct consumer *c, struct batch *b)
{
    apply_merges(b);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (!in_round(b, e) || e->prof == NULL)
            continue;
        if (e->prof->error) {
            snprintf(e->err, sizeof e->err, "redis: %s", e->prof->error);
            e->valid = false;
            release_profile(e);
            send_reject(e, on_rejected);
        } else if (e->prof->link) {
            const char *to = e->prof->link;
            char *copy = util_xstrdup(to);
            redirect(e, copy, strlen(copy));
            free(copy);
        } else if (b->src->timers) {
            prepare_timer(c, b, e);
        } else {
            apply_event(c, b, e);
        }
    }
}

/* Phase one of the round: each customer's profile, and for a merge (an
 * identify with both ids, an alias) the anonymous id's too, from memory
 * or read from Redis. */
static void start_reads(struct consumer *c, struct batch *b)
{
    pstore_round_end(b->pr); /* the round before, answered */
    b->pr = pstore_round_new(c->store, on_store_step, b, &b->failed);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (!in_round(b, e))
            continue;
        b->outstanding += pstore_use(b->pr, e->m.customer, &e->prof);
        if (!b->src->timers && e->m.merge_from && strcmp(e->m.merge_from, e->m.customer) != 0)
            b->outstanding += pstore_use(b->pr, e->m.merge_from, &e->from);
    }
}

/* On a Redis Cluster, each entry's customer is its stream's shard's, and
 * an anonymous id of another shard is not merged (entry_keep_to_shard):
 * before anything reads their keys, which must be of the batch's slot. */
static void keep_to_shards(struct batch *b)
{
    if (b->src->timers || !rconn_is_cluster(b->c->d.conn))
        return;
    for (size_t i = 0; i < b->n; i++) {
        const char *dropped;
        entry_keep_to_shard(&b->e[i], b->c->d.keys->shards, &dropped);
        if (dropped) {
            b->c->d.stats->merges_dropped++;
            log_warn("ids of two shards not merged: on Redis Cluster this version links ids of one shard only",
                     "customer", b->e[i].m.customer, "anonymous_id", dropped);
        }
    }
}

/* Gives each valid entry its round (rounds.h), when firings can change
 * what the next event sees; else all run in round 0. */
static void assign_rounds(struct batch *b)
{
    b->nrounds = trigger_set_has_effects(b->set) ? rounds_assign(b->e, b->n) : 1;
}

/* The links of the batch's customers came back (MGET, in entry order):
 * an id merged earlier is replaced by its user before rounds are given. */
static void on_links(redisAsyncContext *ac, void *r, void *priv)
{
    struct batch *b = priv;
    redisReply *reply = r;
    size_t k = 0;
    (void)ac;
    if (reply_failed(b, reply, "links") || reply->type != REDIS_REPLY_ARRAY) {
        b->failed = true;
        batch_finish(b);
        return;
    }
    for (size_t i = 0; i < b->n && k < reply->elements; i++) {
        struct entry *e = &b->e[i];
        if (!e->valid)
            continue;
        const redisReply *to = reply->element[k++];
        if (to->type == REDIS_REPLY_STRING) {
            e->redirect = util_xstrndup(to->str, to->len);
            e->m.customer = e->redirect;
            e->m.merge_from = NULL;
        }
    }
    assign_rounds(b);
    start_round(b);
}

/* When firings change profiles, each event must be judged after the ones
 * before it of the same person, also when it came under an id that was
 * merged: read the links first. Otherwise go straight to the rounds. */
static void resolve_links(struct batch *b)
{
    struct consumer *c = b->c;
    struct cmd mget;
    cmd_init(&mget);
    cmd_adds(&mget, "MGET");
    for (size_t i = 0; i < b->n; i++)
        if (b->e[i].valid)
            keys_add_customer(&mget, c->d.keys, b->e[i].m.customer, "a");
    bool needed = !b->src->timers && mget.n > 1 && trigger_set_has_effects(b->set);
    if (!needed) {
        assign_rounds(b);
        start_round(b);
    } else if (cmd_send(&mget, c->d.conn, on_links, b) != 0) {
        b->failed = true;
        batch_finish(b);
    }
    cmd_free(&mget);
}

/* Phase one of the current round: rejects (round 0), profile reads. */
static void start_round(struct batch *b)
{
    struct consumer *c = b->c;
    b->phase = PHASE_READS;
    b->reads_done = false;
    TAILQ_INSERT_TAIL(&c->reading, b, reading);
    b->outstanding = 1; /* held until every command is sent */
    for (size_t i = 0; i < b->n; i++)
        if (b->e[i].round == b->round && !b->e[i].valid)
            send_reject(&b->e[i], on_rejected);
    start_reads(c, b);
    batch_step(b);
}

static void on_batch(const struct sreader_entry *entries, size_t n, void *data)
{
    struct source *src = data;
    struct consumer *c = src->c;
    struct batch *b = util_xcalloc(1, sizeof *b);
    char now[40];
    b->c = c;
    b->src = src;
    b->n = n;
    b->e = util_xcalloc(b->n, sizeof *b->e);
    b->now_ms = clock_now_ms();
    message_format_time(b->now_ms, now, sizeof now);
    b->now = json_string(now);
    b->set = trigger_set_ref(*c->d.triggers);
    c->inflight++;
    grow_scratch(c, b->set);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        e->b = b;
        e->stream = entries[i].stream;
        e->stream_index = entries[i].index;
        entry_load(e, entries[i].entry, src->timers, b->now_ms);
        if (!src->timers && !entries[i].pending) /* a pending entry read again was counted when first read */
            c->d.stats->events_consumed++;
    }
    keep_to_shards(b);
    resolve_links(b);
    sreader_release(src->reader); /* every entry is copied: read on if there is room */
}

/* What the round's entries are judged against (judge.h). */
static struct judge round_judge(struct batch *b)
{
    struct consumer *c = b->c;
    return (struct judge){.set = b->set,
                          .now = b->now,
                          .now_ms = b->now_ms,
                          .zone = &c->zone,
                          .active_period_ms = c->d.cfg->triggers_active_period_ms,
                          .top_share = c->d.cfg->top_share,
                          .timers = b->src->timers,
                          .stats = c->d.stats,
                          .scratch = c->fired,
                          .scratch_cap = c->fired_cap};
}

/* A conversion of a firing of the trigger ID (LEN bytes) in ARM: counted
 * in its trigger's counts (measure.h) and, once committed,
 * in the metrics. */
struct converting {
    struct batch *b;
};

static void on_converted(void *data, const char *id, size_t len, bool held_out)
{
    struct batch *b = ((struct converting *)data)->b;
    pstore_count(b->pr, id, len, held_out ? MEASURE_CONVERTED_HELD_OUT : MEASURE_CONVERTED_TREATED);
    stats_pending_add(&b->pending, held_out ? STATS_CONVERTED_HELD_OUT : STATS_CONVERTED_TREATED, id, len);
}

/* One firing decided (decision.h) into the round's commit, and tallied. */
static void fire_now(struct consumer *c, struct batch *b, struct entry *e, const struct trigger *t,
                     struct eval_ctx *ctx, int64_t at)
{
    struct firing fc = {b->pr, c->d.cfg, c->d.tz, c->unsubscribe, c->sha256};
    size_t capped = 0;
    enum decision_kind kind = firing_now(&fc, e->prof, &e->m, t, ctx, at, &capped);
    const char *id = trigger_id(t);
    if (kind == DECISION_LIMITED) {
        b->pending.limited++;
        return;
    }
    if (kind == DECISION_ACTS)
        b->pending.fired++;
    b->pending.capped += capped;
    stats_pending_add(&b->pending, kind == DECISION_HELD_OUT ? STATS_HELD_OUT : STATS_FIRED, id, strlen(id));
    if (capped)
        log_info("an email was not sent: the customer reached the frequency cap", "trigger", id, "customer",
                 e->m.customer);
}

/* E's firings into the round's commit: first the firings its event
 * converts (before its own, which it cannot convert), then each trigger
 * that holds, now or later (delay, unless). A repeated event fires
 * nothing; a waiting firing come due fires once, by its firing hash (of
 * the trigger and messageId: one trigger's, which must not meet the
 * event's own) in the customer's dedup set. */
static void fire_entry(struct consumer *c, struct batch *b, struct entry *e)
{
    if (e->repeat)
        return;
    if (e->goals) {
        json_t *before, *fields = pstore_edit(b->pr, e->prof, &before);
        struct converting cv = {b};
        decision_convert(fields, before, e->goals, e->m.ts_ms, on_converted, &cv);
    }
    struct judge j = round_judge(b);
    struct eval_ctx ctx = judge_ctx(&j, e);
    struct firing fc = {b->pr, c->d.cfg, c->d.tz, c->unsubscribe, c->sha256};
    bool waited = b->src->timers && !e->regroup && !e->silence && !e->date, checked = false;
    for (size_t k = 0; k < e->ncand; k++) {
        const struct trigger *t = e->cand[k];
        if ((!b->src->timers || e->regroup) && trigger_wait_ms(t) > 0) {
            firing_later(&fc, e->prof, &e->m, e->msg, t, &ctx, b->now_ms);
            b->pending.scheduled++;
            continue;
        }
        if (b->src->timers && !checked) {
            unsigned char h[HASHID_DEDUP_LEN];
            hashid_firing(e->regroup ? "" : e->tid, e->m.message_id, h);
            checked = true;
            if (!pstore_first(b->pr, e->prof, h))
                return;
        }
        /* a firing's moment: its event's time, plus the wait of one that
         * waited (the same moment replay's clock shows) */
        fire_now(c, b, e, t, &ctx, e->m.ts_ms + (waited ? trigger_wait_ms(t) : 0));
    }
}

/* Arms the silences and dates of this round (arms.h), in one call sent
 * before the round's commit, so an entry acked has armed what it starts. */
static void send_arms(struct consumer *c, struct batch *b)
{
    struct arms *a = arms_new();
    for (size_t i = 0; i < b->n; i++)
        if (in_round(b, &b->e[i]))
            arms_add(a, b->set, &b->e[i], &c->zone);
    if (arms_cmd(a, &c->call, c->d.scripts, c->d.keys, c->d.cfg->triggers_profile_ttl_ms))
        send_or_fail(b, on_simple, b);
    arms_free(a);
}

static void on_ranks(void *data, bool ok, const char *error)
{
    struct batch *b = data;
    if (error)
        redis_error(b->c, error, "rank");
    b->failed |= !ok;
    batch_step(b);
}

/* The ranks of the customers of this round whose profile is read (those
 * judged); false when there is none. */
static bool send_ranks(struct batch *b)
{
    struct consumer *c = b->c;
    size_t n = 0;
    struct entry **e = util_xcalloc(b->n, sizeof *e);
    for (size_t i = 0; i < b->n; i++)
        if ((b->e[i].ranked = in_round(b, &b->e[i]) && b->e[i].fields != NULL))
            e[n++] = &b->e[i];
    if (n > 0) {
        const char **leases = util_xcalloc(b->n, sizeof *leases);
        size_t nleases = b->src->timers ? 0 : round_leases(b, leases);
        b->phase = PHASE_RANKS;
        b->outstanding = 0;
        count_sent(b, ranks_send(c->d.conn, c->d.scripts, c->d.keys, leases, nleases, e, n, on_ranks, b));
        free(leases);
    }
    free(e);
    return n > 0 && b->outstanding > 0; /* else none, or failed: the batch ends */
}

/* Phase two of the round: judge its entries, decide their firings, arm
 * what they start, and commit it all with their acks. */
static void phase_two(struct batch *b)
{
    b->phase = PHASE_FIRINGS;
    b->outstanding = 1;
    struct judge j = round_judge(b);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (!in_round(b, e))
            continue;
        bool holds = e->fields && judge_entry(&j, e);
        if (holds || e->goals)
            fire_entry(b->c, b, e);
    }
    send_arms(b->c, b);
    send_commit(b);
    batch_step(b);
}

/* Batches overlap (redis.pipeline) so nudged works on one while Redis works
 * on another: as safe as two processes on the group. Not when firings
 * change profiles: a customer's next event must see the effects of the
 * firings before it, which only one batch at a time (in rounds) ensures. */
static size_t room(void *data)
{
    struct consumer *c = ((struct source *)data)->c;
    unsigned max = trigger_set_has_effects(*c->d.triggers) ? 1 : (unsigned)c->d.cfg->redis_pipeline;
    return c->inflight >= max ? 0 : (size_t)c->d.cfg->redis_batch;
}

struct consumer *consumer_new(const struct consumer_deps *deps)
{
    struct consumer *c = util_xcalloc(1, sizeof *c);
    c->d = *deps;
    cmd_init(&c->call);
    c->unsubscribe = firing_unsubscribe_template(deps->cfg, NULL);
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->zone_of = (struct tz_zone){deps->tz, deps->cfg->triggers_default_timezone};
    c->zone = (struct eval_zone){tz_zone_offset, &c->zone_of};
    struct pstore_deps pd = {deps->conn, deps->keys, deps->scripts, deps->cfg, deps->stats};
    c->store = pstore_new(&pd);
    TAILQ_INIT(&c->reading);
    const char *const *streams[CONSUMER_SOURCES] = {(const char *const *)deps->keys->streams + 1,
                                                    (const char *const *)deps->keys->timers};
    for (int i = 0; i < CONSUMER_SOURCES; i++) {
        struct source *src = &c->src[i];
        bool timers = i == CONSUMER_TIMERS;
        *src = (struct source){c, NULL, streams[i], deps->keys->shards, timers};
        struct sreader_opts o = {streams[i],
                                 deps->keys->shards,
                                 deps->keys->group,
                                 deps->keys->consumer,
                                 deps->cfg->redis_claim_idle_ms,
                                 1000,
                                 timers ? deps->keys->dead : deps->keys->rejected,
                                 deps->scripts,
                                 timers};
        src->reader = sreader_new(deps->base, deps->reader[i], deps->conn, &o, room, on_batch, src);
    }
    return c;
}

struct sreader *consumer_reader(struct consumer *c, int source)
{
    return c->src[source].reader;
}

void consumer_metrics(const struct consumer *c, struct buf *out)
{
    pstore_metrics(c->store, out);
}

void consumer_forget(struct consumer *c, const char *id)
{
    pstore_forget(c->store, id);
}

bool consumer_busy(const struct consumer *c)
{
    bool busy = c->inflight > 0;
    for (int i = 0; i < CONSUMER_SOURCES; i++)
        busy |= sreader_busy(c->src[i].reader);
    return busy;
}

void consumer_free(struct consumer *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < CONSUMER_SOURCES; i++)
        sreader_free(c->src[i].reader);
    cmd_free(&c->call);
    template_free(c->unsubscribe);
    EVP_MD_free(c->sha256);
    free(c->fired);
    free(c->hits);
    pstore_free(c->store);
    free(c);
}
