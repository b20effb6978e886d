/* consumer.c — from a batch of stream entries to deliveries, at least once.
 *
 * A batch runs in two pipelined phases, one round trip each: (1) every valid
 * event's profile update (invalid ones go to the rejected stream); (2) once
 * all profiles are back, triggers are evaluated in C and each event's
 * firings, their deliveries and its XACK go to Redis in one script. An event
 * is acked only after its deliveries are written, so a crash anywhere
 * repeats work that the hashes in the dedup set make harmless.
 */
#include "consumer.h"
#include "clock.h"
#include "cmd.h"
#include "hashid.h"
#include "log.h"
#include "message.h"
#include "profile.h"
#include "sreader.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REJECT_MESSAGE_MAX (64 * 1024)

struct batch;

struct entry {
    struct batch *b;
    char *id;
    char *raw;      /* the message field as read */
    size_t rawlen;
    json_t *msg;    /* parsed, with defaults filled in */
    struct message m;
    json_t *customer;
    const struct trigger **cand; /* triggers whose `on` and `where` hold */
    size_t ncand;
    char err[256];
    bool valid;
};

struct batch {
    struct consumer *c;
    struct entry *e;
    size_t n;
    size_t outstanding;
    bool failed;
    int phase;
    int64_t now_ms;
    json_t *now;             /* now_ms as ISO-8601, what templates see */
    struct trigger_set *set; /* a reference: a reload cannot free it under us */
};

struct consumer {
    struct consumer_deps d;
    struct sreader *reader;
    struct batch *batch;
    struct cmd cmd;
    const struct trigger **fired; /* scratch for trigger_set_match */
    size_t fired_cap;
};

static void phase_two(struct batch *b);

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->e[i].id);
        free(b->e[i].raw);
        json_decref(b->e[i].msg);
        json_decref(b->e[i].customer);
        free(b->e[i].cand);
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
    c->batch = NULL;
    batch_free(b);
    sreader_done(c->reader, ok);
}

/* One reply of the batch came back; moves to the next phase at the last. */
static void batch_step(struct batch *b)
{
    if (--b->outstanding > 0)
        return;
    if (b->phase == 1 && !b->failed)
        phase_two(b);
    else
        batch_finish(b);
}

static bool reply_failed(struct batch *b, const redisReply *r, const char *what)
{
    if (r == NULL) {
        b->failed = true;
        return true;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis error", "step", what, "error", r->str);
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

static void send_or_fail(struct batch *b, redisCallbackFn *fn, void *priv)
{
    if (cmd_send(&b->c->cmd, b->c->d.cmd, fn, priv) == 0)
        b->outstanding++;
    else
        b->failed = true;
}

static void send_reject(struct entry *e, redisCallbackFn *fn)
{
    struct consumer *c = e->b->c;
    scripts_begin(&c->cmd, c->d.scripts, SCRIPT_REJECT, 2);
    cmd_adds(&c->cmd, c->d.keys->rejected);
    cmd_adds(&c->cmd, c->d.keys->events);
    cmd_adds(&c->cmd, c->d.keys->group);
    cmd_adds(&c->cmd, e->id);
    cmd_add(&c->cmd, e->raw ? e->raw : "", e->rawlen < REJECT_MESSAGE_MAX ? e->rawlen : REJECT_MESSAGE_MAX);
    cmd_adds(&c->cmd, e->err);
    send_or_fail(e->b, fn, e);
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

static void on_profile(redisAsyncContext *ac, void *r, void *priv)
{
    struct entry *e = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR && !scripts_transient_error(reply->str)) {
        /* This event can never be applied (say, a key of the wrong type):
         * confine the failure to it, so the events behind it go on. */
        snprintf(e->err, sizeof e->err, "redis: %s", reply->str);
        e->valid = false;
        send_reject(e, on_rejected);
    } else if (!reply_failed(e->b, reply, "profile")) {
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
            if (reply->element[1]->type == REDIS_REPLY_ARRAY)
                e->customer = profile_view(e->m.customer, reply->element[1]);
            if (reply->element[0]->integer == 0)
                e->b->c->d.stats->events_duplicate++;
        } else {
            e->b->failed = true;
        }
    }
    batch_step(e->b);
}

/* Copies entry I of the reply and validates it. */
static void entry_load(struct entry *e, const redisReply *r, int64_t now_ms)
{
    const redisReply *fields = r->element[1];
    e->id = util_xstrndup(r->element[0]->str, r->element[0]->len);
    for (size_t k = 0; k + 1 < fields->elements; k += 2)
        if (strcmp(fields->element[k]->str, "message") == 0) {
            e->raw = util_xstrndup(fields->element[k + 1]->str, fields->element[k + 1]->len);
            e->rawlen = fields->element[k + 1]->len;
        }
    if (e->raw == NULL) {
        snprintf(e->err, sizeof e->err, "the entry has no field \"message\"");
        return;
    }
    json_error_t je;
    e->msg = json_loadb(e->raw, e->rawlen, 0, &je);
    if (e->msg == NULL) {
        snprintf(e->err, sizeof e->err, "not valid JSON: %s at line %d column %d", je.text, je.line, je.column);
        return;
    }
    e->valid = message_validate(e->msg, e->id, now_ms, &e->m, e->err, sizeof e->err) == 0;
}

/* Finds E's candidate triggers (`on` and `where`, on the event alone). */
static void find_candidates(struct consumer *c, struct batch *b, struct entry *e)
{
    struct eval_ctx ctx = {e->msg, NULL, NULL, b->now, b->now_ms};
    size_t n = trigger_set_candidates(b->set, &e->m, &ctx, c->fired, c->fired_cap);
    if (n == 0)
        return;
    e->cand = util_xmalloc(n * sizeof *e->cand);
    memcpy(e->cand, c->fired, n * sizeof *e->cand);
    e->ncand = n;
}

static void on_batch(const redisReply *entries, bool pending, void *data)
{
    struct consumer *c = data;
    struct batch *b = util_xcalloc(1, sizeof *b);
    char now[40];
    (void)pending;
    b->c = c;
    b->n = entries->elements;
    b->e = util_xcalloc(b->n, sizeof *b->e);
    b->phase = 1;
    b->now_ms = clock_now_ms();
    message_format_time(b->now_ms, now, sizeof now);
    b->now = json_string(now);
    b->set = trigger_set_ref(*c->d.triggers);
    b->outstanding = 1; /* held until every command is sent */
    c->batch = b;
    size_t cap = trigger_set_count(b->set);
    if (cap > c->fired_cap) {
        c->fired = util_xrealloc(c->fired, cap * sizeof *c->fired);
        c->fired_cap = cap;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        e->b = b;
        entry_load(e, entries->element[i], b->now_ms);
        c->d.stats->events_consumed++;
        if (!e->valid) {
            send_reject(e, on_rejected);
            continue;
        }
        find_candidates(c, b, e);
        profile_cmd(&c->cmd, c->d.scripts, c->d.keys, &e->m, e->msg, b->now_ms, c->d.cfg->triggers_profile_ttl_ms,
                    e->ncand > 0);
        send_or_fail(b, on_profile, e);
    }
    batch_step(b);
}

/* Adds one delivery's field/value strings (count first) to the fire call. */
static void add_delivery(struct consumer *c, const struct entry *e, const struct trigger *t, size_t i,
                         const struct eval_ctx *ctx)
{
    struct action_out out;
    char err[256], did[HASHID_DELIVERY_LEN];
    hashid_delivery(trigger_id(t), e->m.message_id, i, did);
    int ok = trigger_render_action(t, i, ctx, &out, err, sizeof err) == 0;
    cmd_addi(&c->cmd, ok ? 24 : 12);
    cmd_adds(&c->cmd, "d");
    cmd_addcopy(&c->cmd, did, strlen(did));
    cmd_adds(&c->cmd, "trigger");
    cmd_adds(&c->cmd, trigger_id(t));
    cmd_adds(&c->cmd, "action");
    cmd_addi(&c->cmd, (int64_t)i);
    cmd_adds(&c->cmd, "customer");
    cmd_adds(&c->cmd, e->m.customer);
    cmd_adds(&c->cmd, "ets");
    cmd_addi(&c->cmd, e->m.ts_ms);
    if (!ok) {
        cmd_adds(&c->cmd, "error");
        cmd_addf(&c->cmd, "%s", err);
        log_warn("action cannot be rendered", "trigger", trigger_id(t), "customer", e->m.customer, "error", err);
        return;
    }
    char *headers = json_dumps(out.headers, JSON_COMPACT);
    cmd_adds(&c->cmd, "kind");
    cmd_adds(&c->cmd, "webhook");
    cmd_adds(&c->cmd, "url");
    cmd_addf(&c->cmd, "%s", out.url);
    cmd_adds(&c->cmd, "method");
    cmd_addf(&c->cmd, "%s", out.method);
    cmd_adds(&c->cmd, "headers");
    cmd_addf(&c->cmd, "%s", headers ? headers : "{}");
    cmd_adds(&c->cmd, "body");
    cmd_addf(&c->cmd, "%s", out.body);
    cmd_adds(&c->cmd, "attempt");
    cmd_addi(&c->cmd, 1);
    cmd_adds(&c->cmd, "timeout");
    cmd_addi(&c->cmd, out.timeout_ms);
    free(headers);
    trigger_action_out_free(&out);
}

static void on_fired(redisAsyncContext *ac, void *r, void *priv)
{
    struct entry *e = priv;
    redisReply *reply = r;
    (void)ac;
    if (!reply_failed(e->b, reply, "fire") && reply->type == REDIS_REPLY_INTEGER)
        e->b->c->d.stats->triggers_fired += (uint64_t)reply->integer;
    batch_step(e->b);
}

/* Keeps the candidates of E whose `if` holds; sends its fire script and
 * returns true, or returns false when nothing fires (E is then acked with
 * the rest of the batch). */
static bool fire(struct consumer *c, struct batch *b, struct entry *e)
{
    struct eval_ctx ctx = {e->msg, e->customer, NULL, b->now, b->now_ms};
    size_t n = 0;
    for (size_t k = 0; k < e->ncand; k++)
        if (trigger_if_holds(e->cand[k], &ctx))
            e->cand[n++] = e->cand[k];
    if (n == 0)
        return false;
    scripts_begin(&c->cmd, c->d.scripts, SCRIPT_FIRE, 3);
    cmd_addf(&c->cmd, "%s{%s}:d", c->d.keys->prefix, e->m.customer);
    cmd_adds(&c->cmd, c->d.keys->actions);
    cmd_adds(&c->cmd, c->d.keys->events);
    cmd_adds(&c->cmd, c->d.keys->group);
    cmd_adds(&c->cmd, e->id);
    cmd_addi(&c->cmd, b->now_ms);
    cmd_addi(&c->cmd, PROFILE_DEDUP_WINDOW_MS);
    for (size_t k = 0; k < n; k++) {
        const struct trigger *t = e->cand[k];
        unsigned char h[HASHID_DEDUP_LEN];
        hashid_firing(trigger_id(t), e->m.message_id, h);
        cmd_addcopy(&c->cmd, h, sizeof h);
        cmd_addi(&c->cmd, (int64_t)trigger_action_count(t));
        ctx.trigger = trigger_info(t);
        for (size_t i = 0; i < trigger_action_count(t); i++)
            add_delivery(c, e, t, i, &ctx);
    }
    send_or_fail(b, on_fired, e);
    return true;
}

static void phase_two(struct batch *b)
{
    struct consumer *c = b->c;
    struct cmd ack;
    b->phase = 2;
    b->outstanding = 1;
    cmd_init(&ack);
    cmd_adds(&ack, "XACK");
    cmd_adds(&ack, c->d.keys->events);
    cmd_adds(&ack, c->d.keys->group);
    for (size_t i = 0; i < b->n; i++) {
        struct entry *e = &b->e[i];
        if (e->valid && !(e->customer && fire(c, b, e)))
            cmd_adds(&ack, e->id);
    }
    if (ack.n > 3) {
        if (cmd_send(&ack, c->d.cmd, on_simple, b) == 0)
            b->outstanding++;
        else
            b->failed = true;
    }
    cmd_free(&ack);
    batch_step(b);
}

static size_t room(void *data)
{
    struct consumer *c = data;
    return c->batch ? 0 : (size_t)c->d.cfg->redis_batch;
}

struct consumer *consumer_new(const struct consumer_deps *deps)
{
    struct consumer *c = util_xcalloc(1, sizeof *c);
    c->d = *deps;
    cmd_init(&c->cmd);
    struct sreader_opts o = {deps->keys->events, deps->keys->group, deps->keys->consumer,
                             deps->cfg->redis_claim_idle_ms, 1000, deps->keys->rejected, deps->scripts, false};
    c->reader = sreader_new(deps->base, deps->reader, deps->cmd, &o, room, on_batch, c);
    return c;
}

struct sreader *consumer_reader(struct consumer *c)
{
    return c->reader;
}

bool consumer_busy(const struct consumer *c)
{
    return c->batch != NULL || sreader_busy(c->reader);
}

void consumer_free(struct consumer *c)
{
    if (c == NULL)
        return;
    sreader_free(c->reader);
    cmd_free(&c->cmd);
    free(c->fired);
    free(c);
}
