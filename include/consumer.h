/* consumer.h — the events pipeline: read a batch from <prefix>events,
 * validate, update profiles, evaluate triggers, write deliveries, ack. */
#ifndef NUDGED_CONSUMER_H
#define NUDGED_CONSUMER_H

#include <event2/event.h>

#include "config.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"
#include "sreader.h"
#include "stats.h"
#include "trigger.h"
#include "tz.h"
#include "util.h"

struct consumer;

/* The streams it reads: events, and due firings that waited. */
enum { CONSUMER_EVENTS, CONSUMER_TIMERS, CONSUMER_SOURCES };

/* Everything the consumer borrows; all must outlive it. TRIGGERS points at
 * the daemon's current set, which a reload swaps between batches. READER
 * holds one connection per source (a blocked read holds its connection);
 * CONN carries every other command. */
struct consumer_deps {
    struct event_base *base;
    struct rconn *reader[CONSUMER_SOURCES], *conn;
    const struct scripts *scripts;
    const struct keys *keys;
    const struct config *cfg;
    struct trigger_set *const *triggers;
    struct stats *stats;
    struct tz_cache *tz;
};

struct consumer *consumer_new(const struct consumer_deps *deps);

/* The reader of SOURCE: the daemon kicks, resets, claims, prunes and stops it. */
struct sreader *consumer_reader(struct consumer *c, int source);

/* Appends the metrics of the profiles in memory to OUT. */
void consumer_metrics(const struct consumer *c, struct buf *out);

/* Customer ID was erased: its profile leaves memory. */
void consumer_forget(struct consumer *c, const char *id);

/* True while a batch or a read is in progress. */
bool consumer_busy(const struct consumer *c);
void consumer_free(struct consumer *c);

#endif
