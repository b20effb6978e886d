/* firing.c — the part of the fire script call that says what one trigger
 * does for one event: the deliveries rendered now (emails in quiet hours
 * postponed into the schedule), the limit, score and set bookkeeping, or
 * the one schedule item of a firing that waits. The script (daemon/lua/fire.lua)
 * applies all of it atomically with the ack. */
#include "firing.h"
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

/* Adds one delivery's fields to the fire call as one JSON object: the
 * "delivery" field of its <prefix>actions entry, or its schedule item when
 * it waits for the end of quiet hours (the caller adds when it is due,
 * where the form of the firing has it). One string, not a field/value
 * pair each: every string is parsed by Redis, made a Lua string, stored
 * and read back, which costs more than the JSON around one. The fields
 * that hold their default (attempt 1, method POST, no headers of the
 * trigger's own) are left out: the delivery reader puts them back
 * (outbox_default). The record's members: outbox.h. */
static void add_delivery(const struct firing *fc, const struct message *m, const struct trigger *t, size_t i,
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
    cmd_addscopy(fc->call, text);
    free(text);
    free(headers);
}

/* The trait and group changes of a set action, as profile field/value pairs. */
static void add_sets(struct cmd *cmd, json_t *set)
{
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v)
    {
        if (strcmp(k, "group") == 0) {
            cmd_adds(cmd, "x");
            cmd_adds(cmd, "1");
            continue;
        }
        char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        cmd_addf(cmd, "t:%s", k + 7);
        cmd_addscopy(cmd, dump ? dump : "null");
        free(dump);
    }
}

/* The customer's UTC offset now: their timezone, else default_timezone. */
static int32_t customer_utc_offset(const struct firing *fc, const struct eval_ctx *ctx)
{
    const char *tz = json_string_value(json_object_get(ctx->customer, "timezone"));
    return tz_offset_or(fc->tz, tz, fc->cfg->triggers_default_timezone, ctx->now_ms);
}

/* The head of a counted firing ("m", fire.lua): its trigger, arm, and
 * with a goal the record of the firing at AT (measure.h). */
static void add_measured(struct cmd *call, const struct trigger *t, bool held_out, int64_t at)
{
    char record[MEASURE_RECORD_LEN] = "";
    if (trigger_measure(t)->goal)
        measure_record(record, trigger_id(t), trigger_measure(t), at, held_out);
    cmd_adds(call, "m");
    cmd_adds(call, trigger_id(t));
    cmd_adds(call, held_out ? "h" : "t");
    cmd_addscopy(call, record);
}

/* The limit, score and sets of the full form ("n", fire.lua), up to the
 * number of deliveries. */
static void add_bookkeeping(struct cmd *call, const struct trigger *t, int64_t score, size_t nsets,
                            const struct action_out *out, size_t n)
{
    int64_t max, per;
    cmd_adds(call, "n");
    if (trigger_limit(t, &max, &per))
        cmd_addf(call, "l:%s", trigger_id(t));
    else
        cmd_adds(call, "");
    cmd_addi(call, max);
    cmd_addi(call, per);
    cmd_addi(call, score);
    cmd_addi(call, (int64_t)nsets);
    for (size_t i = 0; i < n; i++)
        if (out[i].kind == ACTION_SET)
            add_sets(call, out[i].set);
}

/* A firing that acts now: limit, score, set and deliveries; emails that
 * fall in the trigger's quiet hours wait in the schedule until they end.
 * Most firings have one delivery due now and nothing else: they go in the
 * fire script's short form ("d", see daemon/lua/fire.lua). A trigger with
 * a goal or a holdout is counted ("m"); for a customer it holds out,
 * nothing is rendered and nothing acts, but its limit still counts. */
void firing_now(const struct firing *fc, const struct message *m, const struct trigger *t, struct eval_ctx *ctx,
                int64_t at)
{
    size_t n = trigger_action_count(t), nsets = 0, ndel = 0;
    const struct measure *ms = trigger_measure(t);
    bool counted = measure_counted(ms), held_out = measure_held_out(ms, trigger_id(t), m->customer);
    if (counted)
        add_measured(fc->call, t, held_out, at);
    if (held_out) {
        add_bookkeeping(fc->call, t, 0, 0, NULL, 0);
        cmd_addi(fc->call, 0);
        return;
    }
    struct action_out *out = util_xcalloc(n, sizeof *out);
    char(*err)[256] = util_xcalloc(n, sizeof *err);
    int64_t max, per, score = 0;
    ctx->trigger = trigger_info(t);
    for (size_t i = 0; i < n; i++) {
        if (trigger_render_action(t, i, ctx, &out[i], err[i], sizeof err[i]) != 0)
            out[i].kind = trigger_action_kind(t, i);
        else
            err[i][0] = '\0';
        if (out[i].kind == ACTION_SCORE)
            score += out[i].score;
        else if (out[i].kind == ACTION_SET)
            nsets += json_object_size(out[i].set);
        else
            ndel++;
    }
    int64_t send_at = trigger_quiet_until(t, ctx->now_ms, customer_utc_offset(fc, ctx));
    int64_t email_due = send_at > ctx->now_ms ? send_at : 0;
    bool long_email = false, capped = fc->cfg->cap_max > 0 && !trigger_transactional(t);
    for (size_t i = 0; i < n; i++)
        long_email = long_email || (out[i].kind == ACTION_EMAIL && (email_due > 0 || capped));
    bool short_form = !trigger_limit(t, &max, &per) && score == 0 && nsets == 0 && ndel == 1 && !long_email;
    if (short_form) {
        cmd_adds(fc->call, "d");
    } else {
        add_bookkeeping(fc->call, t, score, nsets, out, n);
        cmd_addi(fc->call, (int64_t)ndel);
    }
    char uerr[256], *unsub = fc->unsubscribe ? template_render(fc->unsubscribe, ctx, uerr, sizeof uerr) : NULL;
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == ACTION_WEBHOOK || out[i].kind == ACTION_EMAIL) {
            if (!short_form && out[i].kind == ACTION_EMAIL && capped)
                cmd_addf(fc->call, "e%lld", (long long)email_due); /* counted against the frequency cap */
            else if (!short_form)
                cmd_addi(fc->call, out[i].kind == ACTION_EMAIL ? email_due : 0);
            add_delivery(fc, m, t, i, &out[i], err[i][0] ? err[i] : NULL, unsub);
        }
        trigger_action_out_free(&out[i]);
    }
    free(unsub);
    free(out);
    free(err);
}

/* A firing that waits (delay, unless): one schedule item (schedule.h), the
 * same for the same event and trigger, so a repeated event schedules it
 * once. */
void firing_later(const struct firing *fc, const struct message *m, json_t *msg, const struct trigger *t,
                  const struct eval_ctx *ctx, int64_t now_ms)
{
    int64_t start = m->ts_ms < now_ms ? m->ts_ms : now_ms;
    char *event = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
    struct schedule_firing f = {trigger_id(t), m->customer, m->message_id, m->ts_ms, trigger_unless_hit(t, m, ctx),
                                event};
    char *member = schedule_firing_item(&f);
    cmd_adds(fc->call, "l");
    cmd_addi(fc->call, start + trigger_wait_ms(t));
    cmd_addscopy(fc->call, member ? member : "{}");
    free(member);
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
