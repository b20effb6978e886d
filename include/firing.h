/* firing.h — what one trigger firing writes with its round's commit. */
#ifndef NUDGED_FIRING_H
#define NUDGED_FIRING_H

#include <jansson.h>
#include <openssl/types.h>
#include <stdint.h>

#include "config.h"
#include "decision.h"
#include "errlist.h"
#include "message.h"
#include "pstore.h"
#include "template.h"
#include "trigger.h"
#include "tz.h"

/* What building a firing needs, all borrowed. */
struct firing {
    struct pstore_round *round; /* the round whose commit writes it */
    const struct config *cfg;
    struct tz_cache *tz;                /* quiet hours in the customer's zone */
    const struct template *unsubscribe; /* [smtp] unsubscribe_url, or NULL */
    const EVP_MD *sha256;               /* for the webhook-ids (hashid_delivery), or NULL */
};

/* T fires now for message M, whose customer's profile is P, in CTX (the
 * customer after the event): decided (decision.h) on P in memory, its
 * deliveries rendered (one that cannot be rendered carries the reason
 * and goes to dead) and counted, all into the round's commit. AT is the
 * firing's moment, which a goal's window starts from: the event's time,
 * or the moment a firing that waited came due (consumer.c). Returns what
 * was decided; *CAPPED gets the emails the frequency cap stopped. Sets
 * CTX->trigger. */
enum decision_kind firing_now(const struct firing *f, struct pcache_profile *p, const struct message *m,
                              const struct trigger *t, struct eval_ctx *ctx, int64_t at, size_t *capped);

/* Adds T's one schedule item for message M (its JSON MSG) of P's customer
 * to the round: it waits trigger_wait_ms from the event (at most from
 * NOW_MS), then runs again through the timers stream. The item is the same
 * for the same event and trigger, so a repeated event schedules it once. */
void firing_later(const struct firing *f, struct pcache_profile *p, const struct message *m, json_t *msg,
                  const struct trigger *t, const struct eval_ctx *ctx, int64_t now_ms);

/* [smtp] unsubscribe_url compiled as a URL template (caller frees with
 * template_free), or NULL when unset or wrong; problems go to ERRS (NULL:
 * dropped, for callers that checked at start). */
struct template *firing_unsubscribe_template(const struct config *cfg, struct errlist *errs);

#endif
