/* replay.c — the daemon's pipeline without Redis, for testing triggers.
 *
 * Each event is applied with customer_apply (as the daemon applies it),
 * candidates and `if` are judged by the same trigger code, and firings that
 * wait (delay, unless) go into an in-memory schedule run by the simulated
 * clock: before an event at time T, everything due by T runs at its due
 * time. At the end of the input the clock runs on to the last waiting
 * firing, as if time went on with no more events.
 */
#include "replay.h"
#include "customer.h"
#include "decision.h"
#include "jparse.h"
#include "measure.h"
#include "message.h"
#include "schedule.h"
#include "tier.h"
#include "tz.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define REPLAY_LINE_MAX (1024 * 1024)

struct timer {
    int64_t due, ets;
    unsigned long seq;              /* keeps firings due at the same time in order */
    char *trigger, *customer, *mid; /* trigger NULL: a regroup (time passed) */
    json_t *event;
    bool strict;
    enum schedule_kind kind; /* as the daemon's schedule item (schedule.h) */
};

struct replay {
    const struct config *cfg;
    const struct trigger_set *set;
    FILE *out, *err;
    json_t *customers; /* id -> fields */
    json_t *links;     /* anonymous id merged -> the user id */
    json_t *seen;      /* messageIds applied, and trigger/messageId firings */
    struct timer *timers;
    size_t ntimers;
    unsigned long seq;
    int64_t clock_ms;
    unsigned long events, rejected, duplicates, fired, limited, cancelled, dropped, held_out, converted, capped;
    const struct trigger **cand;
    const struct counter **hits;
    struct tz_cache *tz;
    struct tz_zone zone_of; /* the customer's clock (customer.local) ... */
    struct eval_zone zone;  /* ... as eval_ctx reads it */
};

static json_t *fields_of(struct replay *r, const char *id)
{
    json_t *f = json_object_get(r->customers, id);
    if (f == NULL) {
        f = json_object();
        json_object_set_new(r->customers, id, f);
    }
    return f;
}

/* True the first time CUSTOMER has A and B (a messageId, or a trigger
 * and a messageId): as the daemon's de-duplication, which is per customer
 * (two customers' silences come due with the same messageId when their
 * events had the same time). */
static bool first_time(struct replay *r, const char *customer, const char *a, const char *b)
{
    char *key = NULL;
    if (asprintf(&key, "%s\x1f%s\x1f%s", customer, a, b) < 0)
        util_fatal("out of memory");
    bool fresh = json_object_get(r->seen, key) == NULL;
    if (fresh)
        json_object_set_new(r->seen, key, json_true());
    free(key);
    return fresh;
}

/* An action as printed; an email in quiet hours carries "send_at". */
static json_t *action_json(const struct action_out *o, const char *err, json_t *send_at)
{
    if (err)
        return json_pack("{s:s}", "error", err);
    switch (o->kind) {
    case ACTION_WEBHOOK: {
        json_t *body = json_loads(o->body, JSON_DECODE_ANY, NULL);
        return json_pack("{s:{s:s, s:s, s:O, s:o}}", "webhook", "url", o->url, "method", o->method, "headers",
                         o->headers, "body", body ? body : json_string(o->body));
    }
    case ACTION_EMAIL: {
        json_t *m = json_object();
        const char *kv[] = {"to",   o->email.to,   "subject", o->email.subject, "text",     o->email.text,
                            "html", o->email.html, "from",    o->email.from,    "reply_to", o->email.reply_to};
        for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k += 2)
            if (kv[k + 1])
                json_object_set_new(m, kv[k], json_string(kv[k + 1]));
        if (send_at)
            json_object_set(m, "send_at", send_at);
        return json_pack("{s:o}", "email", m);
    }
    case ACTION_SCORE: return json_pack("{s:I}", "score", (json_int_t)o->score);
    case ACTION_SET: return json_pack("{s:O}", "set", o->set);
    }
    return json_null();
}

static void print_line(struct replay *r, json_t *line)
{
    char *s = json_dumps(line, JSON_COMPACT);
    if (s)
        fprintf(r->out, "%s\n", s);
    free(s);
    json_decref(line);
}

/* T fires now for CUSTOMER (event MID), at the moment AT: decided as the
 * daemon decides it (decision.h), then printed. */
static void act_now(struct replay *r, const struct trigger *t, const char *customer, const char *mid,
                    struct eval_ctx *ctx, int64_t at)
{
    if (!first_time(r, customer, trigger_id(t), mid))
        return;
    struct decision d;
    struct decision_cap cap = {r->cfg->cap_max, r->cfg->cap_per_ms};
    decision_make(&d, t, customer, fields_of(r, customer), NULL, ctx, at, &cap);
    if (d.kind == DECISION_LIMITED) {
        r->limited++;
    } else if (d.kind == DECISION_HELD_OUT) {
        r->held_out++;
        print_line(r, json_pack("{s:O, s:s, s:s, s:s, s:b}", "at", ctx->now, "trigger", trigger_id(t), "customer",
                                customer, "messageId", mid, "held_out", 1));
    } else {
        json_t *actions = json_array(), *send_at = NULL;
        const char *tzname = json_string_value(json_object_get(ctx->customer, "timezone"));
        int64_t quiet_end = trigger_quiet_until(
            t, ctx->now_ms, tz_offset_or(r->tz, tzname, r->cfg->triggers_default_timezone, ctx->now_ms));
        if (quiet_end > ctx->now_ms) {
            char iso[40];
            message_format_time(quiet_end, iso, sizeof iso);
            send_at = json_string(iso);
        }
        for (size_t i = 0; i < d.n; i++) {
            json_t *a = action_json(&d.out[i], d.err[i][0] ? d.err[i] : NULL, send_at);
            if (d.capped[i])
                json_object_set_new(a, "capped", json_true()); /* not sent: the frequency cap */
            json_array_append_new(actions, a);
        }
        json_decref(send_at);
        r->capped += d.ncapped;
        r->fired++;
        print_line(r, json_pack("{s:O, s:s, s:s, s:s, s:o}", "at", ctx->now, "trigger", trigger_id(t), "customer",
                                customer, "messageId", mid, "actions", actions));
    }
    decision_clear(&d);
}

static void schedule(struct replay *r, const struct trigger *t, const struct message *m, json_t *msg,
                     const struct eval_ctx *ctx)
{
    int64_t start = m->ts_ms < ctx->now_ms ? m->ts_ms : ctx->now_ms;
    r->timers = util_xrealloc(r->timers, (r->ntimers + 1) * sizeof *r->timers);
    r->timers[r->ntimers++] = (struct timer){start + trigger_wait_ms(t),
                                             m->ts_ms,
                                             r->seq++,
                                             util_xstrdup(trigger_id(t)),
                                             util_xstrdup(m->customer),
                                             util_xstrdup(m->message_id),
                                             json_incref(msg),
                                             trigger_unless_hit(t, m, ctx),
                                             SCHEDULE_FIRING};
}

/* The view and state of CUSTOMER at NOW into CTX (new references the
 * caller drops with ctx_clear). */
/* CUSTOMER's rank among the buyers (tier.h): every profile is looked at,
 * which replay can afford for a file of events; the daemon asks Redis's
 * sorted set. */
static struct tier_rank rank_of(const struct replay *r, const char *customer)
{
    struct tier_rank rank = {-1, 0};
    json_t *mine = json_object_get(r->customers, customer), *f;
    const char *id;
    double rv = 0;
    bool buyer = mine && json_object_get(mine, "e:" CUSTOMER_ORDER_EVENT);
    if (buyer) {
        const char *s = json_string_value(json_object_get(mine, "rv"));
        rv = s ? strtod(s, NULL) : 0;
        rank.higher = 0;
    }
    json_object_foreach(r->customers, id, f)
    {
        if (json_object_get(f, "e:" CUSTOMER_ORDER_EVENT) == NULL)
            continue;
        const char *s = json_string_value(json_object_get(f, "rv"));
        rank.buyers++;
        if (buyer && (s ? strtod(s, NULL) : 0) > rv)
            rank.higher++;
    }
    return rank;
}

static void ctx_load(struct replay *r, struct eval_ctx *ctx, const char *customer, json_t *event, int64_t now_ms)
{
    char now[40];
    message_format_time(now_ms, now, sizeof now);
    *ctx = (struct eval_ctx){.event = event, .now = json_string(now), .now_ms = now_ms, .zone = &r->zone};
    ctx->customer =
        customer_view(customer, fields_of(r, customer), now_ms, r->cfg->triggers_active_period_ms, &ctx->state);
    if (trigger_set_uses_tiers(r->set))
        tier_add_view(ctx->customer, rank_of(r, customer), r->cfg->top_share);
}

static void ctx_clear(struct eval_ctx *ctx)
{
    json_decref(ctx->now);
    json_decref(ctx->customer);
    json_decref(ctx->state);
}

static void fire_moved(struct replay *r, const char *customer, const char *group, json_t *event, const char *mid,
                       int64_t at);

/* Time alone may move the customer (active_period ran out): as the
 * daemon's regroup timer does (customer_regroup), compute the group and
 * fire a move. */
static void run_regroup(struct replay *r, struct timer *tm)
{
    json_t *fields = json_object_get(r->customers, tm->customer);
    if (fields == NULL)
        return;
    const char *g = customer_regroup(fields, tm->due, r->cfg->triggers_active_period_ms, NULL);
    if (g == NULL)
        return; /* no move */
    char mid[64], iso[40];
    snprintf(mid, sizeof mid, "group:%s@%lld", g, (long long)tm->due);
    message_format_time(tm->due, iso, sizeof iso);
    json_t *event = json_pack("{s:s, s:s, s:s, s:s}", "type", "group", "group", g, "messageId", mid, "timestamp", iso);
    fire_moved(r, tm->customer, g, event, mid, tm->due);
    json_decref(event);
}

/* T for CUSTOMER at the clock, with EVENT (its messageId MID), started by
 * time (at AT): it acts when its `if` holds. */
static void judge_now(struct replay *r, const struct trigger *t, const char *customer, json_t *event, const char *mid,
                      int64_t at)
{
    struct eval_ctx ctx;
    ctx_load(r, &ctx, customer, event, r->clock_ms);
    if (trigger_if_holds(t, &ctx))
        act_now(r, t, customer, mid, &ctx, at);
    ctx_clear(&ctx);
}

/* A silence came due: it fires when the event that armed it is still the
 * customer's last (of its name), as the daemon judges it. */
static void run_silence(struct replay *r, struct timer *tm)
{
    const struct trigger *t = trigger_set_find(r->set, tm->trigger);
    json_t *fields = json_object_get(r->customers, tm->customer);
    if (t == NULL) {
        r->dropped++;
        return;
    }
    if (fields == NULL || !trigger_silence_holds(t, fields, tm->due))
        return;
    char mid[128];
    json_t *event = trigger_silence_event(t, tm->due, mid, sizeof mid);
    judge_now(r, t, tm->customer, event, mid, tm->due);
    json_decref(event);
}

/* The index of the timer of KIND (a silence or a date) of TRIGGER for CUSTOMER, or
 * r->ntimers when there is none. */
static size_t find_timer(const struct replay *r, enum schedule_kind kind, const char *trigger, const char *customer)
{
    size_t i = 0;
    while (i < r->ntimers && !(r->timers[i].kind == kind && strcmp(r->timers[i].trigger, trigger) == 0 &&
                               strcmp(r->timers[i].customer, customer) == 0))
        i++;
    return i;
}

static void add_timer(struct replay *r, enum schedule_kind kind, const char *trigger, const char *customer, int64_t due)
{
    r->timers = util_xrealloc(r->timers, (r->ntimers + 1) * sizeof *r->timers);
    r->timers[r->ntimers++] = (struct timer){.due = due,
                                             .seq = r->seq++,
                                             .trigger = util_xstrdup(trigger),
                                             .customer = util_xstrdup(customer),
                                             .kind = kind};
}

/* A date came due: it fires when the profile's date still comes due then
 * (the trait may have changed, or the zone become known); for every year,
 * the next anniversary is armed. Otherwise a later moment of the same
 * date is armed instead. */
static void run_date(struct replay *r, struct timer *tm)
{
    const struct trigger *t = trigger_set_find(r->set, tm->trigger);
    json_t *fields = json_object_get(r->customers, tm->customer);
    if (t == NULL) {
        r->dropped++;
        return;
    }
    if (fields == NULL)
        return;
    int64_t due = trigger_date_due(t, fields, &r->zone, tm->due - 1);
    bool armed = find_timer(r, SCHEDULE_DATE, tm->trigger, tm->customer) < r->ntimers; /* set again since */
    if (due != tm->due) {
        if (due > r->clock_ms && !armed)
            add_timer(r, SCHEDULE_DATE, tm->trigger, tm->customer, due);
        return;
    }
    char mid[128];
    json_t *event = trigger_date_event(t, tm->due, mid, sizeof mid);
    judge_now(r, t, tm->customer, event, mid, tm->due);
    json_decref(event);
    int64_t next = trigger_date_due(t, fields_of(r, tm->customer), &r->zone, tm->due);
    if (next >= 0 && !armed)
        add_timer(r, SCHEDULE_DATE, tm->trigger, tm->customer, next);
}

static void run_timer(struct replay *r, struct timer *tm)
{
    if (tm->kind == SCHEDULE_DATE) {
        r->clock_ms = tm->due > r->clock_ms ? tm->due : r->clock_ms;
        run_date(r, tm);
        return;
    }
    if (tm->kind == SCHEDULE_SILENCE) {
        r->clock_ms = tm->due > r->clock_ms ? tm->due : r->clock_ms;
        run_silence(r, tm);
        return;
    }
    if (tm->kind == SCHEDULE_REGROUP) {
        r->clock_ms = tm->due > r->clock_ms ? tm->due : r->clock_ms;
        run_regroup(r, tm);
        return;
    }
    const struct trigger *t = trigger_set_find(r->set, tm->trigger);
    struct eval_ctx ctx;
    r->clock_ms = tm->due > r->clock_ms ? tm->due : r->clock_ms;
    ctx_load(r, &ctx, tm->customer, tm->event, r->clock_ms);
    if (t == NULL)
        r->dropped++;
    else if (trigger_cancelled(t, &ctx, tm->ets, tm->strict))
        r->cancelled++;
    else if (trigger_if_holds(t, &ctx))
        act_now(r, t, tm->customer, tm->mid, &ctx, tm->ets + trigger_wait_ms(t));
    ctx_clear(&ctx);
}

static void timer_free(struct timer *tm)
{
    free(tm->trigger); /* NULL for a regroup */
    free(tm->customer);
    free(tm->mid);
    json_decref(tm->event);
}

/* Runs every firing due at or before UNTIL, earliest first. */
static void run_due(struct replay *r, int64_t until)
{
    for (;;) {
        size_t best = r->ntimers;
        for (size_t i = 0; i < r->ntimers; i++)
            if (r->timers[i].due <= until &&
                (best == r->ntimers || r->timers[i].due < r->timers[best].due ||
                 (r->timers[i].due == r->timers[best].due && r->timers[i].seq < r->timers[best].seq)))
                best = i;
        if (best == r->ntimers)
            return;
        struct timer tm = r->timers[best];
        r->timers[best] = r->timers[--r->ntimers];
        run_timer(r, &tm);
        timer_free(&tm);
    }
}

/* The customer's one regroup timer, at the end of the active period of
 * their last order (moved later by every order). */
static void schedule_regroup(struct replay *r, const char *customer)
{
    long long n = 0, first = 0, last = 0;
    char key[64];
    snprintf(key, sizeof key, "e:%s", CUSTOMER_ORDER_EVENT);
    const char *v = json_string_value(json_object_get(fields_of(r, customer), key));
    if (!customer_event_stats(v, &n, &first, &last))
        return;
    int64_t due = last + r->cfg->triggers_active_period_ms + 1;
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i].kind == SCHEDULE_REGROUP && strcmp(r->timers[i].customer, customer) == 0) {
            r->timers[i].due = due;
            return;
        }
    r->timers = util_xrealloc(r->timers, (r->ntimers + 1) * sizeof *r->timers);
    r->timers[r->ntimers++] =
        (struct timer){due, 0, r->seq++, NULL, util_xstrdup(customer), NULL, NULL, false, SCHEDULE_REGROUP};
}

/* Arms (or moves) the customer's one timer of each silence trigger that M
 * starts again. */
static void arm_silences(struct replay *r, const struct message *m)
{
    size_t ns;
    const struct trigger *const *sil = trigger_set_silences(r->set, &ns);
    for (size_t k = 0; k < ns; k++) {
        int64_t due = trigger_silence_due(sil[k], m);
        if (due < 0)
            continue;
        size_t i = find_timer(r, SCHEDULE_SILENCE, trigger_id(sil[k]), m->customer);
        if (i == r->ntimers) {
            add_timer(r, SCHEDULE_SILENCE, trigger_id(sil[k]), m->customer, due);
        } else {
            r->timers[i].due = due;
            r->timers[i].seq = r->seq++;
        }
    }
}

/* Arms (or moves, or drops) the customer's timer of each date trigger
 * whose trait MSG set, from the profile as it is now. */
static void arm_dates(struct replay *r, const struct message *m, json_t *msg)
{
    size_t nd;
    const struct trigger *const *dates = trigger_set_dates(r->set, &nd);
    for (size_t k = 0; k < nd; k++) {
        if (!trigger_date_touched(dates[k], msg))
            continue;
        int64_t due = trigger_date_due(dates[k], fields_of(r, m->customer), &r->zone, r->clock_ms);
        size_t i = find_timer(r, SCHEDULE_DATE, trigger_id(dates[k]), m->customer);
        if (i < r->ntimers && due < 0) {
            struct timer gone = r->timers[i];
            r->timers[i] = r->timers[--r->ntimers];
            timer_free(&gone);
        } else if (i < r->ntimers) {
            r->timers[i].due = due;
        } else if (due >= 0) {
            add_timer(r, SCHEDULE_DATE, trigger_id(dates[k]), m->customer, due);
        }
    }
}

/* Fires the triggers of a move into GROUP (EVENT caused it, MID names it). */
static void fire_moved(struct replay *r, const char *customer, const char *group, json_t *event, const char *mid,
                       int64_t at)
{
    struct eval_ctx ctx;
    struct message m = {MESSAGE_TRACK, customer, mid, "", r->clock_ms, NULL};
    ctx_load(r, &ctx, customer, event, r->clock_ms);
    size_t n = trigger_set_moved(r->set, group, &ctx, r->cand, trigger_set_count(r->set));
    for (size_t k = 0; k < n; k++) {
        if (!trigger_if_holds(r->cand[k], &ctx))
            continue;
        if (trigger_wait_ms(r->cand[k]) > 0)
            schedule(r, r->cand[k], &m, event, &ctx);
        else
            act_now(r, r->cand[k], customer, mid, &ctx, at);
    }
    ctx_clear(&ctx);
}

struct conversion {
    struct replay *r;
    const struct message *m;
};

/* A conversion, printed as a line of its own and counted. */
static void print_conversion(void *data, const char *id, size_t len, bool held_out)
{
    struct conversion *cv = data;
    char iso[40], *trigger = util_xstrndup(id, len);
    message_format_time(cv->r->clock_ms, iso, sizeof iso);
    cv->r->converted++;
    print_line(cv->r, json_pack("{s:s, s:s, s:s, s:s, s:s}", "at", iso, "trigger", trigger, "customer", cv->m->customer,
                                "messageId", cv->m->message_id, "converted", held_out ? "held_out" : "treated"));
    free(trigger);
}

/* The firings that message M (MSG) converts (measure.h), each printed. */
static void convert(struct replay *r, const struct message *m, json_t *msg)
{
    char hits[TRIGGER_GOAL_HITS_LEN];
    struct eval_ctx ctx = {msg, NULL, NULL, NULL, r->clock_ms, NULL, NULL, NULL};
    if (trigger_set_goal_hits(r->set, m, &ctx, hits, sizeof hits) == 0)
        return;
    struct conversion cv = {r, m};
    decision_convert(fields_of(r, m->customer), NULL, hits, m->ts_ms, print_conversion, &cv);
}

static void apply_event(struct replay *r, const struct message *m, json_t *msg)
{
    struct eval_ctx ectx = {msg, NULL, NULL, NULL, r->clock_ms, NULL, NULL, NULL};
    size_t ncand = trigger_set_candidates(r->set, m, &ectx, r->cand, trigger_set_count(r->set));
    struct customer_update u;
    customer_update_init(&u, m, msg);
    u.counters = r->hits;
    u.ncounters = trigger_set_counters_hit(r->set, m, &ectx, r->hits, trigger_set_counter_count(r->set));
    bool order = strcmp(m->name, CUSTOMER_ORDER_EVENT) == 0 && m->type == MESSAGE_TRACK;
    bool tiers = order && trigger_set_uses_tiers(r->set);
    struct tier_rank before = tiers ? rank_of(r, m->customer) : (struct tier_rank){-1, 0};
    const char *moved =
        customer_apply(fields_of(r, m->customer), &u, r->clock_ms, r->cfg->triggers_active_period_ms, NULL);
    customer_update_clear(&u);
    const char *tier = tiers ? tier_moved(before, rank_of(r, m->customer), r->cfg->top_share) : NULL;
    if (order)
        schedule_regroup(r, m->customer);
    arm_silences(r, m);
    arm_dates(r, m, msg);
    struct eval_ctx ctx;
    ctx_load(r, &ctx, m->customer, msg, r->clock_ms);
    convert(r, m, msg); /* before its own firings, which it cannot convert */
    if (moved)
        ncand += trigger_set_moved(r->set, moved, &ctx, r->cand + ncand, trigger_set_count(r->set) - ncand);
    if (tier)
        ncand += trigger_set_tier_moved(r->set, tier, &ctx, r->cand + ncand, trigger_set_count(r->set) - ncand);
    size_t n = 0;
    for (size_t k = 0; k < ncand; k++)
        if (trigger_if_holds(r->cand[k], &ctx))
            r->cand[n++] = r->cand[k];
    for (size_t k = 0; k < n; k++) {
        if (trigger_wait_ms(r->cand[k]) > 0)
            schedule(r, r->cand[k], m, msg, &ctx);
        else
            act_now(r, r->cand[k], m->customer, m->message_id, &ctx, m->ts_ms);
    }
    ctx_clear(&ctx);
}

/* Folds FROM into the user INTO, as the daemon does (customer_merge); FROM's waiting
 * firings follow it. An id already linked, or a user that is itself
 * linked, is left alone. */
static void merge(struct replay *r, const char *from, const char *into)
{
    if (json_object_get(r->links, from) || json_object_get(r->links, into))
        return;
    json_t *ff = json_object_get(r->customers, from);
    if (ff) {
        customer_merge(fields_of(r, into), ff, NULL);
        for (size_t i = 0; i < r->ntimers; i++)
            if (strcmp(r->timers[i].customer, from) == 0) {
                free(r->timers[i].customer);
                r->timers[i].customer = util_xstrdup(into);
            }
        json_object_del(r->customers, from);
    }
    json_object_set_new(r->links, from, json_string(into));
}

/* One input line: validate, move the clock, run what is due, apply. */
static void replay_line(struct replay *r, const char *line, size_t len, unsigned long lineno)
{
    char id[32], err[256];
    json_error_t je;
    struct message m;
    snprintf(id, sizeof id, "line-%lu", lineno);
    json_t *msg = jparse_loadb(line, len, &je);
    if (msg == NULL) {
        fprintf(r->err, "line %lu: not valid JSON: %s at column %d\n", lineno, je.text, je.column);
        r->rejected++;
        return;
    }
    if (message_validate(msg, id, r->clock_ms, &m, err, sizeof err) != 0) {
        fprintf(r->err, "line %lu: %s\n", lineno, err);
        r->rejected++;
        json_decref(msg);
        return;
    }
    r->events++;
    run_due(r, m.ts_ms);
    const char *to = json_string_value(json_object_get(r->links, m.customer));
    if (to) { /* an anonymous id merged earlier: its events reach the user */
        m.customer = to;
        m.merge_from = NULL;
    }
    if (m.merge_from)
        merge(r, m.merge_from, m.customer);
    if (m.ts_ms > r->clock_ms)
        r->clock_ms = m.ts_ms;
    if (first_time(r, m.customer, "", m.message_id))
        apply_event(r, &m, msg);
    else
        r->duplicates++;
    json_decref(msg);
}

static int read_lines(struct replay *r, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        if (n > REPLAY_LINE_MAX) {
            fprintf(r->err, "line %lu: longer than 1 MiB\n", lineno);
            r->rejected++;
            continue;
        }
        replay_line(r, line, (size_t)n, lineno);
    }
    free(line);
    return ferror(in) ? -1 : 0;
}

/* When the last waiting firing (not a regroup, not a silence) is due; the
 * clock stops there at the end of the input, so time passes only as far
 * as a firing needs it (a silence would show every customer going quiet
 * at the end of any file). */
static int64_t last_firing_due(const struct replay *r)
{
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i].kind == SCHEDULE_FIRING && r->timers[i].due > last)
            last = r->timers[i].due;
    return last;
}

int replay_run(const struct config *cfg, const struct trigger_set *set, FILE *in, FILE *out, FILE *err)
{
    struct replay r = {0};
    r.cfg = cfg;
    r.set = set;
    r.out = out;
    r.err = err;
    r.customers = json_object();
    r.links = json_object();
    r.seen = json_object();
    r.cand = util_xcalloc(trigger_set_count(set) + 1, sizeof *r.cand);
    r.hits = util_xcalloc(trigger_set_counter_count(set) + 1, sizeof *r.hits);
    r.tz = tz_cache_new(NULL);
    r.zone_of = (struct tz_zone){r.tz, cfg->triggers_default_timezone};
    r.zone = (struct eval_zone){tz_zone_offset, &r.zone_of};
    int rc = read_lines(&r, in);
    run_due(&r, last_firing_due(&r)); /* the clock runs on to the last waiting firing */
    fprintf(err,
            "replay: %lu events, %lu rejected, %lu duplicates, %lu firings, %lu held out, %lu conversions, "
            "%lu limited, %lu cancelled by unless, %lu emails capped, %lu customers\n",
            r.events, r.rejected, r.duplicates, r.fired, r.held_out, r.converted, r.limited, r.cancelled, r.capped,
            (unsigned long)json_object_size(r.customers));
    if (rc != 0)
        fprintf(err, "replay: reading the events failed\n");
    for (size_t i = 0; i < r.ntimers; i++) /* regroups never due, firings never run */
        timer_free(&r.timers[i]);
    free(r.timers);
    free(r.cand);
    free(r.hits);
    tz_cache_free(r.tz);
    json_decref(r.customers);
    json_decref(r.links);
    json_decref(r.seen);
    return rc == 0 ? 0 : 3;
}
