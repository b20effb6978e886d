/* delivery.h — send what the triggers fired: read the owned shards'
 * outboxes (<prefix>actions:{k}), deliver webhooks, retry on
 * retry_schedule (in Redis), dead-letter the hopeless. */
#ifndef NUDGED_DELIVERY_H
#define NUDGED_DELIVERY_H

#include <event2/event.h>
#include <stdbool.h>

#include "config.h"
#include "http.h"
#include "keys.h"
#include "rconn.h"
#include "scripts.h"
#include "sreader.h"
#include "stats.h"
#include "trigger.h"

struct delivery;

struct delivery_deps {
    struct event_base *base;
    struct rconn *reader, *conn;
    const struct scripts *scripts;
    const struct keys *keys;
    const struct config *cfg;
    struct trigger_set *const *triggers; /* for webhook secrets at send time */
    struct stats *stats;
    struct http *http;
};

struct delivery *delivery_new(const struct delivery_deps *deps);

/* Its stream reader: the daemon kicks, resets, claims, prunes and stops it. */
struct sreader *delivery_reader(struct delivery *d);
/* Moves the due items of the schedules of the shards whose OWNED flag is
 * set (owner.h): deliveries back into their shard's outbox, waiting
 * firings and the like into its timers stream (maintenance timer). */
void delivery_move_due(struct delivery *d, const bool *owned);
/* Deliveries in flight (sending, or waiting for Redis to record the result). */
size_t delivery_inflight(const struct delivery *d);
void delivery_free(struct delivery *d);

#endif
