/* profile.h — the customer profile in Redis (SPEC 2): the atomic update of
 * one event and the view of it that triggers judge.
 *
 * Layout: hash "<prefix>{ID}:p" with "fs"/"ls" (first/last seen, ms),
 * "e:NAME" = "count first last" per event name, "t:NAME" = a trait as JSON;
 * sorted set "<prefix>{ID}:d" of recent message and firing hashes. */
#ifndef NUDGED_PROFILE_H
#define NUDGED_PROFILE_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "keys.h"
#include "message.h"
#include "scripts.h"

/* How long a messageId is remembered for de-duplication. */
#define PROFILE_DEDUP_WINDOW_MS (24LL * 3600 * 1000)

/* Makes C the profile script call for message M (MSG is its JSON); the
 * reply carries the profile only when WANT_PROFILE. */
void profile_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const struct message *m, json_t *msg,
                 int64_t now_ms, int64_t ttl_ms, bool want_profile);

/* The customer as triggers see it, from the script's HGETALL array:
 * {"id", "traits", "first_seen", "last_seen", "events": {NAME: {"count",
 * "first", "last"}}}. Returns a new reference. */
json_t *profile_view(const char *id, const redisReply *fields);

#endif
