/* arms.h — the silences and dates a round's entries arm (SPEC 3): each
 * event starts its customer's silences again (moved later, never
 * earlier) and arms the dates whose trait it set; a yearly date that came
 * due is armed for its next moment. One call of the arm script, sent
 * before the round's commit, so an entry acked has armed what it starts. */
#ifndef NUDGED_ARMS_H
#define NUDGED_ARMS_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "entry.h"
#include "keys.h"
#include "scripts.h"
#include "trigger.h"

struct arms;

struct arms *arms_new(void);
void arms_free(struct arms *a);

/* Adds what entry E arms, given the triggers of SET and the customer's
 * clock ZONE (a date's moment). */
void arms_add(struct arms *a, const struct trigger_set *set, const struct entry *e, const struct eval_zone *zone);

/* Makes C the arm script call (the customers' schedule indexes live
 * TTL_MS); false, C untouched, when there is nothing to arm. */
bool arms_cmd(const struct arms *a, struct cmd *c, const struct scripts *s, const struct keys *k, int64_t ttl_ms);

#endif
