/* firing.c — what one trigger firing writes with its round's commit:
 * decided by decision.h on the profile in memory, its deliveries rendered
 * now (emails in quiet hours postponed into the schedule), its count, or
 * the one schedule item of a firing that waits. The commit
 * (daemon/lua/commit.lua) writes all of it atomically with the ack. */
#include "firing.h"
#include "decision.h"
#include "hashid.h"
#include "log.h"
#include "measure.h"
#include "outbox.h"
#include "schedule.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One delivery's fields as one JSON object: the "delivery" field of its
 * outbox entry, or its schedule item when it waits for the end
 * of quiet hours. One string, not a field/value pair each: every string
 * is parsed by Redis, made a Lua string, stored and read back, which
 * costs more than the JSON around one. The fields that hold their default
 * (attempt 1, method POST, no headers of the trigger's own) are left out:
 * the delivery reader puts them back (outbox_default). The record's
 * members: outbox.h. Returns a new string. */
static char *delivery(const struct firing *fc, const struct message *m, const struct trigger *t, size_t i,
                      const struct action_out *out, const char *err, const char *unsubscribe)
{
    char did[HASHID_DELIVERY_LEN], action[UTIL_I64_LEN], ets[UTIL_I64_LEN], timeout[UTIL_I64_LEN];
    struct outbox_record f = {{0}, 0};
    char *headers = NULL;
    hashid_delivery(fc->sha256, trigger_id(t), m->message_id, i, did);
    outbox_put(&f, "d", did);
    outbox_put(&f, "trigger", trigger_id(t));
    outbox_put(&f, "action", util_i64(action, (int64_t)i));
    outbox_put(&f, "customer", m->customer);
    outbox_put(&f, "ets", util_i64(ets, m->ts_ms));
    if (err) {
        outbox_put(&f, "error", err);
        log_warn("action cannot be rendered", "trigger", trigger_id(t), "customer", m->customer, "error", err);
    } else if (out->kind == ACTION_WEBHOOK) {
        headers = json_object_size(out->headers) ? json_dumps(out->headers, JSON_COMPACT) : NULL;
        outbox_put(&f, "kind", "webhook");
        outbox_put(&f, "url", out->url);
        outbox_put(&f, "method", strcmp(out->method, OUTBOX_DEFAULT_METHOD) != 0 ? out->method : NULL);
        outbox_put(&f, "headers", headers);
        outbox_put(&f, "body", out->body);
        outbox_put(&f, "timeout", util_i64(timeout, out->timeout_ms));
    } else {
        const struct email_out *em = &out->email;
        outbox_put(&f, "kind", "email");
        outbox_put(&f, "to", em->to);
        outbox_put(&f, "subject", em->subject);
        outbox_put(&f, "text", em->text);
        outbox_put(&f, "html", em->html);
        outbox_put(&f, "from", em->from);
        outbox_put(&f, "reply_to", em->reply_to);
        outbox_put(&f, "unsubscribe", unsubscribe);
    }
    char *text = outbox_json(&f);
    free(headers);
    return text;
}

/* The customer's UTC offset now: their timezone, else default_timezone. */
static int32_t customer_utc_offset(const struct firing *fc, const struct eval_ctx *ctx)
{
    const char *tz = json_string_value(json_object_get(ctx->customer, "timezone"));
    return tz_offset_or(fc->tz, tz, fc->cfg->triggers_default_timezone, ctx->now_ms);
}

/* Counts a firing of T (measure.h) when it has a goal or a holdout. */
static void count(const struct firing *fc, const struct trigger *t, bool held_out)
{
    if (measure_counted(trigger_measure(t)))
        pstore_count(fc->round, trigger_id(t), strlen(trigger_id(t)), held_out ? MEASURE_HELD_OUT : MEASURE_FIRED);
}

/* The deliveries of decision D: due now, or emails in the trigger's quiet
 * hours into the schedule until they end; an email past the cap is not
 * sent. */
static void deliver(const struct firing *fc, struct pcache_profile *p, const struct message *m, const struct trigger *t,
                    const struct decision *d, struct eval_ctx *ctx)
{
    int64_t send_at = trigger_quiet_until(t, ctx->now_ms, customer_utc_offset(fc, ctx));
    char uerr[256], *unsub = fc->unsubscribe ? template_render(fc->unsubscribe, ctx, uerr, sizeof uerr) : NULL;
    for (size_t i = 0; i < d->n; i++) {
        enum action_kind kind = d->out[i].kind;
        if ((kind != ACTION_WEBHOOK && kind != ACTION_EMAIL) || d->capped[i])
            continue;
        char *text = delivery(fc, m, t, i, &d->out[i], d->err[i][0] ? d->err[i] : NULL, unsub);
        if (kind == ACTION_EMAIL && send_at > ctx->now_ms)
            pstore_schedule(fc->round, p, send_at, text);
        else
            pstore_deliver(fc->round, p, text);
    }
    free(unsub);
}

enum decision_kind firing_now(const struct firing *fc, struct pcache_profile *p, const struct message *m,
                              const struct trigger *t, struct eval_ctx *ctx, int64_t at, size_t *capped)
{
    json_t *before, *fields = pstore_edit(fc->round, p, &before);
    struct decision d;
    struct decision_cap cap = {fc->cfg->cap_max, fc->cfg->cap_per_ms};
    decision_make(&d, t, m->customer, fields, before, ctx, at, &cap);
    if (d.kind != DECISION_LIMITED)
        count(fc, t, d.kind == DECISION_HELD_OUT);
    if (d.kind == DECISION_ACTS)
        deliver(fc, p, m, t, &d, ctx);
    *capped = d.ncapped;
    enum decision_kind kind = d.kind;
    decision_clear(&d);
    return kind;
}

/* A firing that waits (delay, unless): one schedule item (schedule.h), the
 * same for the same event and trigger, so a repeated event schedules it
 * once. */
void firing_later(const struct firing *fc, struct pcache_profile *p, const struct message *m, json_t *msg,
                  const struct trigger *t, const struct eval_ctx *ctx, int64_t now_ms)
{
    int64_t start = m->ts_ms < now_ms ? m->ts_ms : now_ms;
    char *event = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
    struct schedule_firing f = {trigger_id(t), m->customer, m->message_id, m->ts_ms, trigger_unless_hit(t, m, ctx),
                                event};
    char *member = schedule_firing_item(&f);
    pstore_schedule(fc->round, p, start + trigger_wait_ms(t), member ? member : util_xstrdup("{}"));
    free(event);
}

struct template *firing_unsubscribe_template(const struct config *cfg, struct errlist *errs)
{
    const char *url = cfg->smtp_unsubscribe_url;
    struct errlist local = {0};
    struct diag d = {errs ? errs : &local, "smtp.unsubscribe_url", NULL};
    struct template *t = NULL;
    if (url[0] == '\0')
        return NULL;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        errlist_add(d.errs, "smtp.unsubscribe_url: must be an http:// or https:// URL, not \"%s\"", url);
    else
        t = template_compile(url, TEMPLATE_URL, "unsubscribe_url", &d);
    errlist_clear(&local);
    return t;
}
