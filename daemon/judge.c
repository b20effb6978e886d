/* judge.c — which triggers an entry of a round meets (judge.h). Apart from
 * the consumer, which runs a round's reads, firings and commit. */
#include "judge.h"
#include "customer.h"
#include "log.h"
#include "message.h"
#include "tier.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void judge_keep(struct entry *e, const struct trigger **t, size_t n)
{
    if (n == 0)
        return;
    e->cand = util_xrealloc(e->cand, (e->ncand + n) * sizeof *e->cand);
    memcpy(e->cand + e->ncand, t, n * sizeof *e->cand);
    e->ncand += n;
}

struct eval_ctx judge_ctx(const struct judge *j, const struct entry *e)
{
    return (struct eval_ctx){e->msg, e->customer, NULL, j->now, j->now_ms, e->state, NULL, j->zone};
}

/* A timer's one candidate: its trigger, unless a reload removed it or an
 * `unless` event came while it waited. */
static void timer_candidate(const struct judge *j, struct entry *e, const struct eval_ctx *ctx)
{
    const struct trigger *t = trigger_set_find(j->set, e->tid);
    if (json_object_size(e->fields) == 0) {
        j->stats->timers_dropped++;
        log_info("a waiting firing was dropped: the customer was erased or expired", "trigger", e->tid);
    } else if (t == NULL) {
        j->stats->timers_dropped++;
        log_info("a waiting firing was dropped: its trigger no longer exists", "trigger", e->tid, "customer",
                 e->m.customer);
    } else if (trigger_cancelled(t, ctx, e->ets, e->strict)) {
        j->stats->triggers_cancelled++;
    } else {
        judge_keep(e, &t, 1);
    }
}

/* The trigger of the KIND of timer ("silence", "date") that came due for
 * E, or NULL (counted and logged) when a reload removed it. */
static const struct trigger *timer_trigger(const struct judge *j, const struct entry *e, const char *kind)
{
    const struct trigger *t = trigger_set_find(j->set, e->tid);
    if (t == NULL) {
        j->stats->timers_dropped++;
        log_info("a timer was dropped: its trigger no longer exists", "kind", kind, "trigger", e->tid, "customer",
                 e->m.customer);
    }
    return t;
}

/* A silence came due: its trigger, if it still exists and the event that
 * armed it is still the customer's last (a later one ended that silence
 * and armed the next); judged with an event that names the silence. */
static void silence_candidate(const struct judge *j, struct entry *e, struct eval_ctx *ctx)
{
    const struct trigger *t = timer_trigger(j, e, "silence");
    if (t == NULL)
        return;
    if (json_object_size(e->fields) == 0 || !trigger_silence_holds(t, e->fields, e->m.ts_ms))
        return; /* erased or expired, or the customer spoke since */
    e->msg = trigger_silence_event(t, e->m.ts_ms, e->gmid, sizeof e->gmid);
    ctx->event = e->msg;
    judge_keep(e, &t, 1);
}

/* A date came due: its trigger, if it still exists and the profile's date
 * still comes due then; judged with an event that names the date. A date
 * of every year is armed again for its next moment; one that moved (the
 * trait changed, or the customer's zone became known) is armed at its new
 * moment instead of firing. */
static void date_candidate(const struct judge *j, struct entry *e, struct eval_ctx *ctx)
{
    const struct trigger *t = timer_trigger(j, e, "date");
    if (t == NULL)
        return;
    if (json_object_size(e->fields) == 0)
        return; /* erased or expired */
    int64_t due = trigger_date_due(t, e->fields, j->zone, e->m.ts_ms - 1);
    if (due != e->m.ts_ms) {
        e->rearm = due > j->now_ms ? due : 0;
        return;
    }
    int64_t next = trigger_date_due(t, e->fields, j->zone, e->m.ts_ms);
    e->rearm = next > 0 ? next : 0;
    e->msg = trigger_date_event(t, e->m.ts_ms, e->gmid, sizeof e->gmid);
    ctx->event = e->msg;
    judge_keep(e, &t, 1);
}

bool judge_entry(const struct judge *j, struct entry *e)
{
    e->customer = customer_view(e->m.customer, e->fields, j->now_ms, j->active_period_ms, &e->state);
    if (e->ranked)
        tier_add_view(e->customer, e->rank, j->top_share);
    struct eval_ctx ctx = judge_ctx(j, e);
    if (e->regroup && e->moved) { /* time alone moved the customer */
        snprintf(e->gmid, sizeof e->gmid, "group:%s@%lld", e->moved, (long long)e->m.ts_ms);
        char iso[40];
        message_format_time(e->m.ts_ms, iso, sizeof iso);
        e->msg = json_pack("{s:s, s:s, s:s, s:s}", "type", "group", "group", e->moved, "messageId", e->gmid,
                           "timestamp", iso);
        ctx.event = e->msg;
        judge_keep(e, j->scratch, trigger_set_moved(j->set, e->moved, &ctx, j->scratch, j->scratch_cap));
    } else if (e->silence) {
        silence_candidate(j, e, &ctx);
    } else if (e->date) {
        date_candidate(j, e, &ctx);
    } else if (j->timers) {
        timer_candidate(j, e, &ctx);
    } else if (e->moved) {
        judge_keep(e, j->scratch, trigger_set_moved(j->set, e->moved, &ctx, j->scratch, j->scratch_cap));
    }
    const char *tier = e->ranked && entry_is_order(e) ? tier_moved(e->before, e->rank, j->top_share) : NULL;
    if (tier)
        judge_keep(e, j->scratch, trigger_set_tier_moved(j->set, tier, &ctx, j->scratch, j->scratch_cap));
    size_t n = 0;
    for (size_t k = 0; k < e->ncand; k++)
        if (trigger_if_holds(e->cand[k], &ctx))
            e->cand[n++] = e->cand[k];
    e->ncand = n; /* in the order they fire */
    return n > 0;
}
