/* stats.h — the counters and histograms nudged keeps, for STATUS= and
 * GET /metrics. Owned by the daemon; one loop writes them, so no locks. */
#ifndef NUDGED_STATS_H
#define NUDGED_STATS_H

#include <jansson.h>
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

struct stats {
    uint64_t events_consumed, events_rejected, events_duplicate;
    uint64_t triggers_fired, triggers_limited, triggers_scheduled, triggers_cancelled, timers_dropped;
    uint64_t deliveries_sent, deliveries_retried, deliveries_dead, deliveries_failed;
    uint64_t emails_sent, emails_suppressed, emails_retried, emails_dead, emails_failed;
    uint64_t scheduled_moved;
    uint64_t reloads, reload_failures;
    uint64_t redis_refused_writes; /* script calls Redis refused for want of memory (OOM) */
    int64_t redis_refused_ms;      /* when it last did; 0 after a batch went through */
    int64_t redis_refused_logged_ms;
    json_t *fired_by_trigger;           /* trigger id -> firings (bounded by the triggers) */
    struct histogram event_to_delivery; /* event time to delivery accepted */
    struct histogram delivery_seconds;  /* one attempt, request to answer */
};

#endif
