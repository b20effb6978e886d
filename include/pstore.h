/* pstore.h — the profiles a process works on (SPEC 8 "State"): found in
 * memory (pcache.h) or read from Redis on a miss, changed there by
 * customer_apply and the firings' rules (decision.h), and a round of a
 * batch committed in one script call (profile.h) with its deliveries,
 * schedule items, counts and acks, fenced by the shards' leases and
 * checked against each profile's version. The consumer drives it a round
 * at a time; the rules are customer.h's and decision.h's alone. */
#ifndef NUDGED_PSTORE_H
#define NUDGED_PSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "customer.h"
#include "keys.h"
#include "pcache.h"
#include "rconn.h"
#include "scripts.h"
#include "stats.h"
#include "util.h"

struct pstore_deps {
    struct rconn *conn;
    const struct keys *keys;
    const struct scripts *scripts;
    const struct config *cfg;
    struct stats *stats;
};

struct pstore;
struct pstore_round;

struct pstore *pstore_new(const struct pstore_deps *deps);
void pstore_free(struct pstore *s);

/* One round's work on the profiles. Each request pstore_use and
 * pstore_commit count (their return) is answered by one call of
 * STEP(DATA); a request that failed sets *FAILED first (said in the log).
 * Rounds of all batches read in the order they began: the caller applies
 * a round only once every round begun before it has. */
typedef void pstore_step_fn(void *data);
struct pstore_round *pstore_round_new(struct pstore *s, pstore_step_fn *step, void *data, bool *failed);

/* ID's profile for R, pinned, in *P: from memory, or read from Redis (a
 * key of the wrong type leaves why in (*P)->error). Returns how many
 * answers to wait for (0 or 1) before it may be applied to. */
size_t pstore_use(struct pstore_round *r, const char *id, struct pcache_profile **p);
/* Unpins P. */
void pstore_release(struct pstore *s, struct pcache_profile *p);

/* Applies U (message MESSAGE_ID; ORDER for an order) to P in memory, once:
 * false when P had applied the message within the dedup window (a
 * repeat). *MOVED gets the group the customer moved into, or NULL. A
 * caller may keep P->fields as they are by a reference (json_incref): an
 * application copies them first when anyone else holds them. */
bool pstore_apply(struct pstore_round *r, struct pcache_profile *p, const char *message_id,
                  const struct customer_update *u, bool order, int64_t now_ms, const char **moved);

/* P's fields for R to change (copied first when a judged entry holds
 * them); *BEFORE gets where the change notes the fields it touches (as
 * customer_apply notes them), for the commit. */
json_t *pstore_edit(struct pstore_round *r, struct pcache_profile *p, json_t **before);
/* R's commit checks P's version even when R writes nothing to it: what R
 * decided from P (a waiting firing judged, a date armed again) holds only
 * while Redis still has P as R saw it. */
void pstore_check(struct pstore_round *r, struct pcache_profile *p);
/* Whether P meets the firing hash H for the first time within the dedup
 * window; then it is remembered, and written with R's commit. */
bool pstore_first(struct pstore_round *r, struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN]);
/* Folds the anonymous id's profile FROM into the user's INTO in memory
 * (customer_merge, the dedup hashes too), as the first step of a round:
 * R's commit moves FROM's scheduled items to INTO, deletes FROM's keys
 * and links it to INTO, checked against FROM's version as every profile
 * is. False (nothing done) when FROM is linked already or INTO is itself
 * linked elsewhere. */
bool pstore_merge(struct pstore_round *r, struct pcache_profile *into, struct pcache_profile *from);
/* Written with R's commit: a delivery to P's customer due now (TEXT, the
 * field "delivery" of its entry in the outbox of the customer's shard; R
 * frees it), a schedule item of P's
 * customer due at DUE (MEMBER, which R frees), one more in COUNT of the
 * trigger (LEN bytes at TRIGGER; measure.h), the ack of entry ID of
 * STREAM (both borrowed until the commit is sent). */
void pstore_deliver(struct pstore_round *r, const struct pcache_profile *p, char *text);
void pstore_schedule(struct pstore_round *r, struct pcache_profile *p, int64_t due, char *member);
void pstore_count(struct pstore_round *r, const char *trigger, size_t len, const char *count);
void pstore_ack(struct pstore_round *r, const char *stream, const char *id);

/* Sends the commit of R, fenced by the NLEASES LEASES of its events'
 * shards, its counts to the tally list of SHARD (the round's);
 * DELETE_ACKED for nudged's own timers streams. Returns the answers
 * to wait for: 0 when there is nothing to write (or it could not be sent:
 * *FAILED). A commit refused because a profile moved on in Redis drops it
 * from memory and sets *FAILED: the batch is read again. */
size_t pstore_commit(struct pstore_round *r, const char *const *leases, size_t nleases, unsigned shard, int64_t now_ms,
                     bool delete_acked);

/* Ends R: when *FAILED, what it changed in memory (not known to be
 * committed) leaves memory. */
void pstore_round_end(struct pstore_round *r);

/* Customer ID's profile leaves memory: changed in Redis by another step
 * (a merge, an erasure). */
void pstore_forget(struct pstore *s, const char *id);

/* Appends the metrics of the profiles in memory to OUT. */
void pstore_metrics(const struct pstore *s, struct buf *out);

#endif
