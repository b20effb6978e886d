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
#include "trigger.h"

/* Makes C the read of the counts of SET's measured triggers (measure.h,
 * daemon/lua/measures.lua), for report_counts. */
void report_read_cmd(struct cmd *c, const struct keys *k, const struct trigger_set *set);

/* The counts of report_read_cmd's REPLY (tallies: the hashes' counts and
 * those not folded yet) summed, as {ID: {COUNT: n}}; NULL when REPLY is
 * not one (an error). */
json_t *report_counts(const redisReply *reply);

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
