/* decision.c — one firing's rules, the daemon's and replay's (decision.h). */
#include "decision.h"
#include "customer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The profile field of T's record (measure.h). */
static void record_key(char *out, size_t len, const char *trigger)
{
    snprintf(out, len, MEASURE_PREFIX "%s", trigger);
}

/* T's record of a firing at AT replaces its older one (measure.h). */
static void record(json_t *fields, json_t *before, const struct trigger *t, bool held_out, int64_t at)
{
    char key[128], rec[MEASURE_RECORD_LEN];
    record_key(key, sizeof key, trigger_id(t));
    measure_record(rec, trigger_measure(t), at, held_out);
    customer_set(fields, before, key, rec);
}

/* Renders every action of T; emails past the cap are marked. */
static void render(struct decision *d, const struct trigger *t, json_t *fields, json_t *before,
                   const struct eval_ctx *ctx, const struct decision_cap *cap)
{
    bool capped = cap->max > 0 && !trigger_transactional(t);
    d->n = trigger_action_count(t);
    d->out = util_xcalloc(d->n, sizeof *d->out);
    d->err = util_xcalloc(d->n, sizeof *d->err);
    d->capped = util_xcalloc(d->n, sizeof *d->capped);
    for (size_t i = 0; i < d->n; i++) {
        if (trigger_render_action(t, i, ctx, &d->out[i], d->err[i], sizeof d->err[i]) != 0)
            d->out[i].kind = trigger_action_kind(t, i);
        else
            d->err[i][0] = '\0';
        if (capped && d->out[i].kind == ACTION_EMAIL &&
            !customer_cap_take(fields, before, cap->max, cap->per_ms, ctx->now_ms)) {
            d->capped[i] = true;
            d->ncapped++;
        }
    }
}

void decision_make(struct decision *d, const struct trigger *t, const char *customer, json_t *fields, json_t *before,
                   struct eval_ctx *ctx, int64_t at, const struct decision_cap *cap)
{
    memset(d, 0, sizeof *d);
    if (!customer_limit_allows(fields, t, ctx->now_ms)) {
        d->kind = DECISION_LIMITED;
        return;
    }
    const struct measure *ms = trigger_measure(t);
    bool held_out = measure_held_out(ms, trigger_id(t), customer);
    if (ms->goal)
        record(fields, before, t, held_out, at);
    if (held_out) { /* counted by its limit, as in the treated arm: both arms fire alike */
        d->kind = DECISION_HELD_OUT;
        customer_fired(fields, before, t, NULL, 0, ctx->now_ms);
        return;
    }
    d->kind = DECISION_ACTS;
    ctx->trigger = trigger_info(t);
    render(d, t, fields, before, ctx, cap);
    customer_fired(fields, before, t, d->out, d->n, ctx->now_ms);
}

void decision_clear(struct decision *d)
{
    for (size_t i = 0; i < d->n; i++)
        trigger_action_out_free(&d->out[i]);
    free(d->out);
    free(d->err);
    free(d->capped);
    memset(d, 0, sizeof *d);
}

void decision_convert(json_t *fields, json_t *before, const char *hits, int64_t ts, measure_converted_fn *fn,
                      void *data)
{
    const char *k;
    json_t *v;
    void *tmp;
    const size_t plen = sizeof MEASURE_PREFIX - 1;
    json_object_foreach_safe(fields, tmp, k, v)
    {
        bool held_out = false;
        enum measure_check c;
        if (strncmp(k, MEASURE_PREFIX, plen) != 0 || !json_is_string(v) ||
            (c = measure_check(json_string_value(v), hits, ts, &held_out)) == MEASURE_OPEN)
            continue;
        if (c == MEASURE_CONVERTS)
            fn(data, k + plen, strlen(k + plen), held_out);
        customer_set(fields, before, k, NULL); /* K stays valid: the loop holds the next key */
    }
}
