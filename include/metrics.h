/* metrics.h — the Prometheus text format of nudged's counters (SPEC 7). */
#ifndef NUDGED_METRICS_H
#define NUDGED_METRICS_H

#include <stdint.h>

#include "stats.h"
#include "util.h"

/* Gauges the daemon knows at the moment of the scrape. */
struct metrics_gauges {
    uint64_t redis_reconnects;
    uint64_t redis_redirects, redis_map_reads; /* on a Redis Cluster: MOVED and ASK followed; slot maps read */
    uint64_t triggers_loaded;
    uint64_t deliveries_inflight;
    uint64_t events_lag, events_pending; /* from the last XINFO GROUPS */
    int redis_up;
    uint64_t shards, shards_owned, processes; /* [redis] shards; held by this process; live processes it last saw */
    int64_t start_time_s;                     /* when the process started (Unix seconds): restarts show as changes */
};

/* Appends one metric of one sample (TYPE "counter" or "gauge") to OUT. */
void metrics_gauge(struct buf *out, const char *name, const char *help, uint64_t v, const char *type);

/* Appends histogram H (stats_bounds buckets) as NAME to OUT. */
void metrics_histogram(struct buf *out, const char *name, const char *help, const struct histogram *h);

/* Appends every metric, with # HELP and # TYPE, to OUT. */
void metrics_format(const struct stats *s, const struct metrics_gauges *g, struct buf *out);

#endif
