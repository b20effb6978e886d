/* consumer.h — the events pipeline: read a batch from <prefix>events,
 * validate, update profiles, evaluate triggers, write deliveries, ack. */
#ifndef NUDGED_CONSUMER_H
#define NUDGED_CONSUMER_H

#include <event2/event.h>

#include "config.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"
#include "stats.h"
#include "trigger.h"

struct consumer;

/* Everything the consumer borrows; all must outlive it. TRIGGERS points at
 * the daemon's current set, which a reload swaps between batches. */
struct consumer_deps {
    struct event_base *base;
    struct rconn *reader, *cmd;
    const struct scripts *scripts;
    const struct keys *keys;
    const struct config *cfg;
    struct trigger_set *const *triggers;
    struct stats *stats;
};

struct consumer *consumer_new(const struct consumer_deps *deps);

/* Starts or resumes reading (after Redis came up, or a batch ended). */
void consumer_kick(struct consumer *c);
/* Reads this consumer's pending entries again first (after a reconnect). */
void consumer_reset(struct consumer *c);
/* Claims entries of crashed consumers (maintenance timer). */
void consumer_claim(struct consumer *c);
/* Stops taking new batches; the one in progress completes. */
void consumer_stop(struct consumer *c);
/* True while a batch or a read is in progress. */
bool consumer_busy(const struct consumer *c);
void consumer_free(struct consumer *c);

#endif
