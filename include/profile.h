/* profile.h — the customer profile in Redis (SPEC 2): the atomic update of
 * each event by the profile script, and the hash read back as fields.
 * The layout of the hash "<prefix>{ID}:p" is customer.h's; the sorted set
 * "<prefix>{ID}:d" holds recent message and firing hashes. */
#ifndef NUDGED_PROFILE_H
#define NUDGED_PROFILE_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdint.h>

#include "cmd.h"
#include "customer.h"
#include "keys.h"
#include "message.h"
#include "scripts.h"

/* How long a messageId is remembered for de-duplication. */
#define PROFILE_DEDUP_WINDOW_MS (24LL * 3600 * 1000)

struct profile_opts {
    int64_t now_ms, ttl_ms, active_ms;
};

/* When the profile script returns the profile: never, always, or when the
 * group moved. Its reply of the whole hash, converted to Lua and back,
 * costs Redis several times what an HGETALL queued after the script in
 * the same MULTI/EXEC does: a caller reads the profile that way (profile_read_cmd) for the last event
 * of a customer in a run, and asks the script only for an event that has
 * another of its customer after it in the run. */
enum profile_want { PROFILE_NEVER = '0', PROFILE_ALWAYS = '1', PROFILE_IF_MOVED = 'g' };

/* The profile script applies a run of N events in one call, built in this
 * order: profile_begin, profile_add_keys for each event's customer, then
 * profile_add_opts, then profile_add_event for each event in the same
 * order. Its reply has one element per event (see daemon/lua/profile.lua). */
void profile_begin(struct cmd *c, const struct scripts *s, const struct keys *k, size_t nevents);
/* The four keys of CUSTOMER the profile and fire scripts take, in order. */
void profile_add_keys(struct cmd *c, const struct keys *k, const char *customer);
void profile_add_opts(struct cmd *c, const struct profile_opts *o);
/* Adds event M's update U; WANT says when its profile comes back. */
void profile_add_event(struct cmd *c, const struct message *m, const struct customer_update *u, enum profile_want want);
/* Makes C the HGETALL of CUSTOMER's profile hash. */
void profile_read_cmd(struct cmd *c, const struct keys *k, const char *customer);

/* Makes C the merge script call folding the anonymous id FROM into the
 * user INTO (an identify with both ids, an alias). */
void profile_merge_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *from, const char *into,
                       int64_t ttl_ms);

/* Makes C the forget script call erasing customer ID (SPEC 2: every key,
 * scheduled item and merged anonymous id). S NULL: EVAL with the source,
 * for a process that has not loaded the scripts. */
void profile_forget_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *id);

/* The HGETALL array FIELDS as an object of field -> string (new reference). */
json_t *profile_fields(const redisReply *fields);

#endif
