/* counter.c — the registry of windowed counters of one trigger set.
 *
 * Counting happens when the event arrives (the profile keeps event times),
 * not by scanning history when a trigger asks, so a count is one list walk.
 */
#include "counter.h"
#include "cond.h"
#include "duration.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const count_keys[] = {"event", "where", "within"};

static void make_field(char out[COUNTER_FIELD_LEN], const char *event, json_t *where)
{
    char *canon = where ? json_dumps(where, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint64_t h = util_fnv1a64(UTIL_FNV64_BASIS, event, strlen(event) + 1);
    if (canon)
        h = util_fnv1a64(h, canon, strlen(canon));
    free(canon);
    snprintf(out, COUNTER_FIELD_LEN, "w:%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

static int check_spec(json_t *spec, const char *at, int64_t *within_ms, const struct diag *d)
{
    char p[512];
    if (!json_is_object(spec))
        return errlist_diag(d, at, "needs {\"event\": NAME, \"where\": {...}, \"within\": DURATION}"), -1;
    int bad = errlist_unknown_keys(d, spec, at, count_keys, 3, "it") > 0;
    json_t *ev = json_object_get(spec, "event"), *within = json_object_get(spec, "within");
    if (!json_is_string(ev) || json_string_length(ev) == 0) {
        snprintf(p, sizeof p, "%s.event", at);
        errlist_diag(d, p, "is required: the event name to count");
        bad = 1;
    }
    snprintf(p, sizeof p, "%s.within", at);
    if (within == NULL) {
        errlist_diag(d, p, "is required: a duration such as \"7d\"");
        bad = 1;
    } else if (!json_is_string(within) || duration_parse(json_string_value(within), within_ms) != 0 ||
               *within_ms <= 0) {
        errlist_diag(d, p, "needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" or \"1h30m\"");
        bad = 1;
    }
    return bad ? -1 : 0;
}

struct counter *counter_compile(json_t *spec, const char *at, const struct diag *d)
{
    int64_t within_ms = 0;
    if (check_spec(spec, at, &within_ms, d) != 0)
        return NULL;
    json_t *where = json_object_get(spec, "where");
    char wat[512];
    snprintf(wat, sizeof wat, "%s.where", at);
    struct cond *c = where ? cond_compile(where, wat, COND_EVENT_ONLY, NULL, d) : NULL;
    if (where && c == NULL)
        return NULL;
    const char *event = json_string_value(json_object_get(spec, "event"));
    struct counter *n = util_xcalloc(1, sizeof *n);
    make_field(n->field, event, where);
    n->event = util_xstrdup(event);
    n->where = c;
    n->window_ms = within_ms;
    return n;
}

void counter_free(struct counter *c)
{
    if (c == NULL)
        return;
    free(c->event);
    cond_free(c->where);
    free(c);
}

struct counter *counter_register(struct counters *reg, json_t *spec, const char *at, int64_t *within_ms,
                                 const struct diag *d)
{
    struct counter *n = counter_compile(spec, at, d);
    if (n == NULL)
        return NULL;
    *within_ms = n->window_ms;
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->c[i]->field, n->field) == 0) {
            if (reg->c[i]->window_ms < *within_ms)
                reg->c[i]->window_ms = *within_ms;
            counter_free(n);
            return reg->c[i];
        }
    reg->c = util_xrealloc(reg->c, (reg->n + 1) * sizeof *reg->c);
    reg->c[reg->n++] = n;
    return n;
}

bool counter_hit(const struct counter *c, const struct message *msg, const struct eval_ctx *ctx)
{
    return strcmp(c->event, msg->name) == 0 && (c->where == NULL || cond_eval(c->where, ctx));
}

size_t counter_count(const struct counter *c, const struct eval_ctx *ctx, int64_t since_ms, bool strict)
{
    json_t *times = json_object_get(ctx->state, c->field);
    size_t i, n = 0;
    json_t *t;
    json_array_foreach(times, i, t)
    {
        json_int_t ms = json_integer_value(t);
        if (ms > since_ms || (!strict && ms == since_ms))
            n++;
    }
    return n;
}

void counter_registry_free(struct counters *reg)
{
    for (size_t i = 0; i < reg->n; i++)
        counter_free(reg->c[i]);
    free(reg->c);
    reg->c = NULL;
    reg->n = 0;
}
