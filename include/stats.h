/* stats.h — the counters and histograms nudged keeps, for STATUS= and
 * GET /metrics. Owned by the daemon; one loop writes them, so no locks. */
#ifndef NUDGED_STATS_H
#define NUDGED_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds (seconds) of the latency histograms' buckets; +Inf follows. */
#define STATS_BUCKETS 18
extern const double stats_bounds[STATS_BUCKETS];

struct histogram {
    uint64_t bucket[STATS_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    uint64_t count;
    double sum;
};

/* Counts V (seconds) into H. */
void stats_observe(struct histogram *h, double v);

/* The counts kept per trigger id, as metrics with a trigger label. */
enum stats_per_trigger {
    STATS_FIRED,              /* firings that acted */
    STATS_HELD_OUT,           /* firings held out (measure.h) */
    STATS_CONVERTED_TREATED,  /* conversions of firings that acted */
    STATS_CONVERTED_HELD_OUT, /* conversions of firings held out */
    STATS_PER_TRIGGER
};

struct stats {
    uint64_t events_consumed, events_rejected, events_duplicate;
    uint64_t merges_dropped; /* on a Redis Cluster: ids of two shards not linked (entry_keep_to_shard) */
    uint64_t triggers_fired, triggers_limited, triggers_scheduled, triggers_cancelled, timers_dropped;
    uint64_t deliveries_sent, deliveries_retried, deliveries_dead, deliveries_failed;
    uint64_t emails_sent, emails_suppressed, emails_retried, emails_dead, emails_failed;
    uint64_t emails_capped; /* not sent: the customer reached [triggers] frequency_cap */
    uint64_t scheduled_moved;
    uint64_t reloads, reload_failures;
    uint64_t redis_refused_writes; /* script calls Redis refused for want of memory (OOM) */
    int64_t redis_refused_ms;      /* when it last did; 0 after a batch went through */
    int64_t redis_refused_logged_ms;
    json_t *per_trigger[STATS_PER_TRIGGER]; /* trigger id -> count (bounded by the triggers) */
    struct histogram event_to_delivery;     /* event time to delivery accepted */
    struct histogram delivery_seconds;      /* one attempt, request to answer */
};

/* Makes and frees the per-trigger counts of S (zeroed before). */
void stats_init(struct stats *s);
void stats_clear(struct stats *s);

/* One more of WHAT for trigger ID. */
void stats_count_trigger(struct stats *s, enum stats_per_trigger what, const char *id);

/* What a round's firings add to the metrics, kept until its commit is
 * answered: a refused commit is worked out again, and must not count
 * twice. */
struct stats_pending {
    uint64_t fired, limited, capped, scheduled;
    struct stats_pending_item {
        enum stats_per_trigger what;
        char *trigger; /* owned */
    } * items;
    size_t n, cap;
};

/* One more of WHAT for the trigger TRIGGER (LEN bytes), pending. */
void stats_pending_add(struct stats_pending *p, enum stats_per_trigger what, const char *trigger, size_t len);

/* Adds P to S when ADD (its commit is written), and empties P. */
void stats_pending_end(struct stats_pending *p, struct stats *s, bool add);

/* A Redis error ERR of step WHAT at NOW_MS, logged: said plainly when
 * Redis is out of memory (once in 30 s: every retry meets it), so the
 * operator knows events wait rather than fail, and noted for /healthz and
 * the metrics; any other error as it is. */
void stats_redis_error(struct stats *s, const char *err, const char *what, int64_t now_ms);

#endif
