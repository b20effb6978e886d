/* report.c — the report of goals and holdouts (report.h): the JSON of
 * GET /v1/triggers, its text for `nudged report`, and that command's one
 * read of every shard's counts (oneshot.h). */
#include "report.h"
#include "cmd.h"
#include "keys.h"
#include "measure.h"
#include "oneshot.h"
#include "profile.h"
#include "scripts.h"
#include "tally.h"
#include "uplift.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_DEADLINE_S 10

static uint64_t count_of(json_t *counts, const char *id, const char *count)
{
    json_int_t n = json_integer_value(json_object_get(json_object_get(counts, id), count));
    return n > 0 ? (uint64_t)n : 0;
}

bool report_counts(json_t *counts, const redisReply *reply)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return false;
    for (size_t i = 0; i < reply->elements; i++) /* as the fold does, a tally that is not one counts nothing */
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            (void)tally_parse(counts, reply->element[i]->str, reply->element[i]->len);
    return true;
}

static json_t *rate_or_null(bool has, double v)
{
    return has ? json_real(v) : json_null();
}

/* The share of M's holdout as written in trigger files ("10%"), or null. */
static json_t *holdout_text(const struct measure *m)
{
    char s[16];
    if (m->holdout == 0)
        return json_null();
    snprintf(s, sizeof s, "%u.%02u%%", m->holdout / 100, m->holdout % 100);
    char *dot = strchr(s, '.'); /* "10.00%" -> "10%", "2.50%" -> "2.5%" */
    if (strcmp(dot, ".00%") == 0)
        memmove(dot, dot + 3, 2);
    else if (dot[2] == '0')
        memmove(dot + 2, dot + 3, 2);
    return json_string(s);
}

static json_t *trigger_report(const struct trigger *t, json_t *counts)
{
    const struct measure *m = trigger_measure(t);
    const char *id = trigger_id(t);
    json_t *info = trigger_info(t);
    bool counted = measure_counted(m);
    struct uplift_arm treated = {count_of(counts, id, MEASURE_FIRED), count_of(counts, id, MEASURE_CONVERTED_TREATED)};
    struct uplift_arm held = {count_of(counts, id, MEASURE_HELD_OUT), count_of(counts, id, MEASURE_CONVERTED_HELD_OUT)};
    struct uplift u = uplift_compute(m->goal != NULL, treated, held);
    json_t *j = json_pack("{s:s, s:O, s:b, s:b, s:o}", "id", id, "description", json_object_get(info, "description"),
                          "measured", counted, "goal", m->goal != NULL, "holdout", holdout_text(m));
    json_object_set_new(j, "fired", counted ? json_integer((json_int_t)treated.fired) : json_null());
    json_object_set_new(j, "held_out", counted ? json_integer((json_int_t)held.fired) : json_null());
    json_object_set_new(j, "conversions",
                        m->goal ? json_pack("{s:I, s:I}", "treated", (json_int_t)treated.converted, "held_out",
                                            (json_int_t)held.converted)
                                : json_pack("{s:n, s:n}", "treated", "held_out"));
    json_object_set_new(j, "conversion_rate",
                        json_pack("{s:o, s:o}", "treated", rate_or_null(u.has_treated, u.rate_treated), "held_out",
                                  rate_or_null(u.has_held_out, u.rate_held_out)));
    json_object_set_new(j, "uplift",
                        u.has_value ? json_pack("{s:f, s:[f, f]}", "value", u.value, "ci95", u.low, u.high)
                                    : json_pack("{s:n, s:n}", "value", "ci95"));
    json_object_set_new(j, "verdict", json_string(uplift_verdict_text(u.verdict)));
    return j;
}

static bool wanted(const char *id, char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return n == 0;
}

json_t *report_json(const struct trigger_set *set, json_t *counts, char *const *ids, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < trigger_set_count(set); i++) {
        const struct trigger *t = trigger_set_get(set, i);
        if (wanted(trigger_id(t), ids, n))
            json_array_append_new(list, trigger_report(t, counts));
    }
    return json_pack("{s:o}", "triggers", list);
}

/* "12.3 % (152 of 1,234)" for an arm, or "-" without data. */
static void print_arm(FILE *out, const char *name, json_t *conv, json_t *fired, json_t *rate)
{
    fprintf(out, "  %-10s", name);
    if (json_is_real(rate))
        fprintf(out, "%6.1f %% converted (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT ")\n",
                100 * json_real_value(rate), json_integer_value(conv), json_integer_value(fired));
    else
        fprintf(out, "     - (no firings)\n");
}

static void print_trigger(FILE *out, json_t *r)
{
    const char *desc = json_string_value(json_object_get(r, "description"));
    fprintf(out, "%s%s%s\n", json_string_value(json_object_get(r, "id")), desc && *desc ? ": " : "", desc ? desc : "");
    if (!json_is_true(json_object_get(r, "measured"))) {
        fprintf(out, "  not measured: give it a goal (and a holdout) to count its firings\n\n");
        return;
    }
    json_t *fired = json_object_get(r, "fired"), *held = json_object_get(r, "held_out");
    json_t *conv = json_object_get(r, "conversions"), *rate = json_object_get(r, "conversion_rate");
    json_t *holdout = json_object_get(r, "holdout"), *up = json_object_get(r, "uplift");
    fprintf(out, "  fired %" JSON_INTEGER_FORMAT ", held out %" JSON_INTEGER_FORMAT " (holdout %s)\n",
            json_integer_value(fired), json_integer_value(held),
            json_is_string(holdout) ? json_string_value(holdout) : "none");
    if (json_is_true(json_object_get(r, "goal"))) {
        print_arm(out, "treated", json_object_get(conv, "treated"), fired, json_object_get(rate, "treated"));
        print_arm(out, "held out", json_object_get(conv, "held_out"), held, json_object_get(rate, "held_out"));
    }
    json_t *v = json_object_get(up, "value"), *ci = json_object_get(up, "ci95");
    if (json_is_real(v))
        fprintf(out, "  uplift    %+6.1f points, 95 %% interval %+.1f to %+.1f (Newcombe)\n", 100 * json_real_value(v),
                100 * json_real_value(json_array_get(ci, 0)), 100 * json_real_value(json_array_get(ci, 1)));
    fprintf(out, "  verdict   %s\n\n", json_string_value(json_object_get(r, "verdict")));
}

void report_print(FILE *out, json_t *report)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(report, "triggers"), i, r) print_trigger(out, r);
}

struct report_cmd {
    json_t *counts;
    bool failed;
};

/* A shard's counts; the first that fails says why, and fails the report. */
static void on_reply(const redisReply *reply, size_t i, void *data)
{
    struct report_cmd *q = data;
    (void)i;
    if (report_counts(q->counts, reply) || q->failed)
        return;
    q->failed = true;
    if (reply)
        fprintf(stderr, "nudged: report failed: %s\n", reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
    else
        fprintf(stderr, "nudged: no answer from Redis within %d s\n", REPORT_DEADLINE_S);
}

void report_read_cmd(struct cmd *c, const struct keys *k, const struct trigger_set *set, unsigned shard)
{
    size_t n = 0, count = trigger_set_count(set);
    for (size_t i = 0; i < count; i++)
        n += measure_counted(trigger_measure(trigger_set_get(set, i)));
    scripts_begin_eval(c, SCRIPT_MEASURES, (int)(n + 1));
    for (size_t i = 0; i < count; i++)
        if (measure_counted(trigger_measure(trigger_set_get(set, i))))
            keys_add_measures(c, k, shard, trigger_id(trigger_set_get(set, i)));
    cmd_adds(c, k->tally[shard]);
    for (size_t i = 0; i < count; i++)
        if (measure_counted(trigger_measure(trigger_set_get(set, i))))
            cmd_adds(c, trigger_id(trigger_set_get(set, i)));
}

/* A report being read on the daemon's connection (report_send). */
struct report_req {
    struct trigger_set *set; /* a reference */
    json_t *counts;
    char *error; /* the first failure */
    unsigned waiting;
    report_done_fn *done;
    void *data;
};

/* One call answered, or all sent: once all are answered, the counts. */
static void req_step(struct report_req *q)
{
    if (--q->waiting > 0)
        return;
    q->done(q->data, q->error ? NULL : q->counts, q->error, q->set);
    trigger_set_free(q->set);
    json_decref(q->counts);
    free(q->error);
    free(q);
}

static void on_shard_counts(redisAsyncContext *ac, void *r, void *priv)
{
    struct report_req *q = priv;
    redisReply *reply = r;
    (void)ac;
    if (!report_counts(q->counts, reply) && q->error == NULL)
        q->error = util_xstrdup(reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "redis connection lost");
    req_step(q);
}

void report_send(struct rconn *rc, const struct keys *k, struct trigger_set *set, report_done_fn *done, void *data)
{
    struct report_req *q = util_xcalloc(1, sizeof *q);
    *q = (struct report_req){trigger_set_ref(set), json_object(), NULL, 1, done, data}; /* held until all are sent */
    struct cmd c;
    cmd_init(&c);
    for (unsigned shard = 0; shard < k->shards; shard++) {
        report_read_cmd(&c, k, set, shard);
        if (rc == NULL || cmd_send(&c, rc, on_shard_counts, q) != 0) {
            q->error = util_xstrdup("redis connection lost");
            break;
        }
        q->waiting++;
    }
    cmd_free(&c);
    req_step(q);
}

int report_run(const struct config *cfg, const struct trigger_set *set, char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (trigger_set_find(set, ids[i]) == NULL) {
            fprintf(stderr, "nudged: no trigger \"%s\" in %s\n", ids[i], cfg->triggers_dir);
            return 2;
        }
    struct report_cmd q = {json_object(), false};
    struct keys keys;
    keys_init(&keys, cfg);
    struct cmd *c = util_xcalloc(keys.shards, sizeof *c);
    for (unsigned k = 0; k < keys.shards; k++) {
        cmd_init(&c[k]);
        report_read_cmd(&c[k], &keys, set, k);
    }
    oneshot_run_each(cfg, "report", c, keys.shards, REPORT_DEADLINE_S, false, on_reply, &q);
    if (!q.failed) {
        json_t *report = report_json(set, q.counts, ids, n);
        report_print(stdout, report);
        json_decref(report);
    }
    for (unsigned k = 0; k < keys.shards; k++)
        cmd_free(&c[k]);
    free(c);
    json_decref(q.counts);
    keys_free(&keys);
    return q.failed ? 3 : 0;
}
