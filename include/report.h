/* report.h — did the triggers work? (SPEC 3, 6, 7): per trigger, its
 * counted firings (acted and held out), the conversions of each arm, the
 * rates, the uplift and its 95 % interval (uplift.h), from the counts the
 * consumer's commit keeps in every shard's <prefix>measures:{k}:ID and
 * <prefix>tally:{k} (tally.h). `nudged report` prints it as
 * text; GET /v1/triggers answers the same as JSON. */
#ifndef NUDGED_REPORT_H
#define NUDGED_REPORT_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>

#include "cmd.h"
#include "config.h"
#include "keys.h"
#include "rconn.h"
#include "trigger.h"

/* Makes C the read of the counts of SET's measured triggers (measure.h,
 * daemon/lua/measures.lua) in SHARD, for report_counts: a call a shard,
 * as a Redis Cluster keeps a script to one slot; a shard's hashes and
 * tally list are read in one call, so that its fold cannot fall between
 * them (a fold keeps to its shard). */
void report_read_cmd(struct cmd *c, const struct keys *k, const struct trigger_set *set, unsigned shard);

/* Adds the counts of a report_read_cmd's REPLY (tallies: the hashes'
 * counts and those not folded yet) to COUNTS, {ID: {COUNT: n}}; false
 * (nothing added) when REPLY is not one (an error, or NULL). */
bool report_counts(json_t *counts, const redisReply *reply);

/* Reads the counts of SET's measured triggers on RC (NULL: not ready), a
 * call a shard, and gives them to DONE(DATA, COUNTS, ERROR, SET): COUNTS
 * (borrowed) once every shard answered, else NULL and why. SET is held
 * until then (a reload may replace the caller's). */
typedef void report_done_fn(void *data, json_t *counts, const char *error, const struct trigger_set *set);
void report_send(struct rconn *rc, const struct keys *k, struct trigger_set *set, report_done_fn *done, void *data);

/* {"triggers": [...]} for the triggers of SET named in IDS (N of them; all
 * when N is 0), in file order, from COUNTS (report_counts'): each {"id", "description", "measured",
 * "goal", "holdout", "fired", "held_out", "conversions": {"treated",
 * "held_out"}, "conversion_rate": {"treated", "held_out"}, "uplift":
 * {"value", "ci95": [LOW, HIGH]}, "verdict"}. The counts are null for a
 * trigger without goal or holdout (its firings are not counted in Redis),
 * the rates and the uplift null without data. */
json_t *report_json(const struct trigger_set *set, json_t *counts, char *const *ids, size_t n);

/* The report REPORT (from report_json) as text, a block per trigger. */
void report_print(FILE *out, json_t *report);

/* `nudged report`: reads the counts from Redis and prints the report of
 * the triggers IDS (N; all when 0) of SET. Returns 0, 2 when an id is not
 * a trigger of SET, 3 when Redis cannot be read in time. */
int report_run(const struct config *cfg, const struct trigger_set *set, char *const *ids, size_t n);

#endif
