/* profile.h — the customer profile in Redis (SPEC 2): the atomic update of
 * one event by the profile script, and the hash read back as fields.
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

/* When the profile script returns the profile. */
enum profile_want { PROFILE_NEVER = '0', PROFILE_ALWAYS = '1', PROFILE_IF_MOVED = 'g' };

/* Makes C the profile script call applying U (from message M). */
void profile_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const struct message *m,
                 const struct customer_update *u, const struct profile_opts *o, enum profile_want want);

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
