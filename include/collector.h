/* collector.h — the Segment-compatible HTTP collector (SPEC 1.2) on the
 * daemon's loop: requests from analytics.js, Segment's and RudderStack's
 * libraries and curl become entries of the events stream, exactly as a
 * producer would write them, and are answered 200 only once Redis holds
 * every message of the request. */
#ifndef NUDGED_COLLECTOR_H
#define NUDGED_COLLECTOR_H

#include <event2/event.h>
#include <stdint.h>

#include "rconn.h"
#include "util.h"
#include "writekeys.h"

struct collector;

struct collector_config {
    const char *listen;         /* host:port */
    const char *const *streams; /* shard k's events stream at k (borrowed: it must outlive the collector) */
    unsigned shards;
    const char *cors_origins; /* space-separated origins, "*", or "" */
    uint64_t max_backlog;     /* lag plus pending above which requests get 429 */
};

/* Listens on CFG->listen and writes through RC (borrowed; it must outlive
 * the collector, and its pending callbacks must run before
 * collector_free). Takes KEYS. Returns NULL (logged) when it cannot bind. */
struct collector *collector_new(struct event_base *base, const struct collector_config *cfg, struct rconn *rc,
                                struct writekeys *keys);

/* Replaces the write keys (a reload); takes KEYS, frees the old ones. */
void collector_set_keys(struct collector *c, struct writekeys *keys);

/* The group's backlog (lag plus pending) as last read by the daemon;
 */
void collector_set_backlog(struct collector *c, uint64_t backlog);

/* The port bound (for tests that listen on port 0). */
int collector_port(const struct collector *c);

/* Appends the collector's metrics (Prometheus text) to OUT. */
void collector_metrics(const struct collector *c, struct buf *out);

/* Stops listening; requests still waiting for Redis are forgotten. */
void collector_free(struct collector *c);

#endif
