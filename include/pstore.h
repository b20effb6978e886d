/* pstore.h — the profiles a process works on (SPEC 8 "State"): found in
 * memory (pcache.h) or read from Redis on a miss, changed there by
 * customer_apply, and what a round of a batch changed committed in one
 * script call (profile.h), fenced by the shards' leases and checked
 * against each profile's version. The consumer drives it a round at a
 * time; the rules of the profile are customer.h's alone. */
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

/* Sends the commit of what R changed, fenced by the NLEASES LEASES of its
 * events' shards. Returns the answers to wait for: 0 when nothing changed
 * (or it could not be sent: *FAILED). A commit refused because a profile
 * moved on in Redis drops it from memory and sets *FAILED: the batch is
 * read again. */
size_t pstore_commit(struct pstore_round *r, const char *const *leases, size_t nleases, int64_t now_ms);

/* Ends R: when *FAILED, what it changed in memory (not known to be
 * committed) leaves memory. */
void pstore_round_end(struct pstore_round *r);

/* Customer ID's profile leaves memory: changed in Redis by another step
 * (a merge, a firing's score or set, a regroup, an erasure). */
void pstore_forget(struct pstore *s, const char *id);

/* Appends the metrics of the profiles in memory to OUT. */
void pstore_metrics(const struct pstore *s, struct buf *out);

#endif
