/* stats.c — the buckets of nudged's latency histograms: from a millisecond
 * (a local webhook) to a minute (a slow SMTP server, a retry that waited). */
#include "stats.h"
#include "log.h"
#include "util.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define REFUSED_LOG_EVERY_MS 30000

const double stats_bounds[STATS_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,     0.25,   0.5,   1,     2.5,    5,     10,   60};

void stats_observe(struct histogram *h, double v)
{
    size_t i = 0;
    while (i < STATS_BUCKETS && v > stats_bounds[i])
        i++;
    h->bucket[i]++;
    h->count++;
    h->sum += v;
}

void stats_init(struct stats *s)
{
    for (int i = 0; i < STATS_PER_TRIGGER; i++)
        s->per_trigger[i] = json_object();
}

void stats_clear(struct stats *s)
{
    for (int i = 0; i < STATS_PER_TRIGGER; i++)
        json_decref(s->per_trigger[i]);
}

void stats_count_trigger(struct stats *s, enum stats_per_trigger what, const char *id)
{
    json_t *n = json_object_get(s->per_trigger[what], id);
    json_object_set_new(s->per_trigger[what], id, json_integer(json_integer_value(n) + 1));
}

void stats_redis_error(struct stats *s, const char *err, const char *what, int64_t now_ms)
{
    if (strstr(err, "OOM") == NULL) {
        log_warn("redis error", "step", what, "error", err);
        return;
    }
    s->redis_refused_writes++;
    s->redis_refused_ms = now_ms;
    if (now_ms - s->redis_refused_logged_ms >= REFUSED_LOG_EVERY_MS) {
        s->redis_refused_logged_ms = now_ms;
        log_error("Redis refuses writes: out of memory (maxmemory); events wait in the stream and are applied "
                  "once it has room",
                  "step", what, "error", err);
    }
}

void stats_pending_add(struct stats_pending *p, enum stats_per_trigger what, const char *trigger, size_t len)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->items = util_xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->n++] = (struct stats_pending_item){what, util_xstrndup(trigger, len)};
}

void stats_pending_end(struct stats_pending *p, struct stats *s, bool add)
{
    if (add) {
        s->triggers_fired += p->fired;
        s->triggers_limited += p->limited;
        s->emails_capped += p->capped;
        s->triggers_scheduled += p->scheduled;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (add)
            stats_count_trigger(s, p->items[i].what, p->items[i].trigger);
        free(p->items[i].trigger);
    }
    free(p->items);
    *p = (struct stats_pending){0};
}
