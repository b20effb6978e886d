/* firing.h — what one trigger firing adds to the fire script call. */
#ifndef NUDGED_FIRING_H
#define NUDGED_FIRING_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdint.h>

#include "cmd.h"
#include "config.h"
#include "errlist.h"
#include "message.h"
#include "template.h"
#include "trigger.h"
#include "tz.h"

/* What building a firing needs, all borrowed. */
struct firing {
    struct cmd *call; /* the fire script call being built */
    const struct config *cfg;
    struct tz_cache *tz;                /* quiet hours in the customer's zone */
    const struct template *unsubscribe; /* [smtp] unsubscribe_url, or NULL */
    const EVP_MD *sha256;               /* for the webhook-ids (hashid_delivery), or NULL */
};

/* Adds T firing now for message M in CTX (the customer after the event):
 * its limit, score and set changes, and every delivery
 * rendered (one that cannot be rendered carries the reason and goes to
 * dead); for a customer T holds out, only its limit and its count. AT is
 * the firing's moment, which a goal's window starts from: the event's
 * time, or the moment a firing that waited came due (consumer.c). Sets
 * CTX->trigger. */
void firing_now(const struct firing *f, const struct message *m, const struct trigger *t, struct eval_ctx *ctx,
                int64_t at);

/* Adds T's one schedule item for message M (its JSON MSG): it waits
 * trigger_wait_ms from the event (at most from NOW_MS), then runs again
 * through the timers stream. The item is the same for the same event and
 * trigger, so a repeated event schedules it once. */
void firing_later(const struct firing *f, const struct message *m, json_t *msg, const struct trigger *t,
                  const struct eval_ctx *ctx, int64_t now_ms);

/* [smtp] unsubscribe_url compiled as a URL template (caller frees with
 * template_free), or NULL when unset or wrong; problems go to ERRS (NULL:
 * dropped, for callers that checked at start). */
struct template *firing_unsubscribe_template(const struct config *cfg, struct errlist *errs);

#endif
