/* keys.h — the names of nudged's Redis keys (SPEC 1, 2, 4).
 *
 * Global keys are "<prefix>events" and the like; every key of one customer
 * is "<prefix>{ID}:x", so all of them share one Redis Cluster hash slot. */
#ifndef NUDGED_KEYS_H
#define NUDGED_KEYS_H

#include "cmd.h"
#include "config.h"

struct keys {
    char *events, *actions, *rejected, *dead, *schedule, *timers; /* owned */
    const char *prefix, *group, *consumer;                        /* borrowed from config */
};

void keys_init(struct keys *k, const struct config *cfg);
void keys_free(struct keys *k);

/* Adds customer ID's key of KIND to C: "<prefix>{ID}:<KIND>", where KIND
 * is p (profile hash), d (dedup set), a (link), s (schedule index) or m
 * (merged ids). */
void keys_add_customer(struct cmd *c, const struct keys *k, const char *id, char kind);

#endif
