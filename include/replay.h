/* replay.h — `nudged replay` (SPEC 6): events from a JSON-lines file through
 * the triggers, with an in-memory profile store and a clock that follows the
 * events' timestamps. Prints one JSON line per firing; sends nothing and
 * needs no Redis. */
#ifndef NUDGED_REPLAY_H
#define NUDGED_REPLAY_H

#include <stdio.h>

#include "config.h"
#include "trigger.h"

/* Replays IN (one message per line) through SET with CFG's active_period.
 * Firings go to OUT; rejected lines and a summary to ERR. Returns 0, or 3
 * when IN cannot be read. */
int replay_run(const struct config *cfg, const struct trigger_set *set, FILE *in, FILE *out, FILE *err);

#endif
