/* metrics.c — one table of counters, so a new counter is one line. Labels
 * are bounded (an action kind, never a customer or a URL). */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

struct metric {
    const char *name, *help;
    size_t off; /* into struct stats */
};

#define S(field) offsetof(struct stats, field)

static const struct metric counters[] = {
    {"nudged_events_consumed_total", "Events read from the events stream.", S(events_consumed)},
    {"nudged_events_rejected_total", "Events that were not valid, moved to the rejected stream.", S(events_rejected)},
    {"nudged_events_duplicate_total", "Events whose messageId was already applied.", S(events_duplicate)},
    {"nudged_merges_dropped_total",
     "On a Redis Cluster: identifies and aliases whose anonymous id is of another shard, applied without the merge.",
     S(merges_dropped)},
    {"nudged_triggers_fired_total", "Trigger firings written (deliveries, score, set).", S(triggers_fired)},
    {"nudged_triggers_limited_total", "Firings held back by a trigger's limit.", S(triggers_limited)},
    {"nudged_triggers_scheduled_total", "Firings put in the schedule (delay, unless).", S(triggers_scheduled)},
    {"nudged_triggers_cancelled_total", "Waiting firings cancelled by their unless event.", S(triggers_cancelled)},
    {"nudged_timers_dropped_total", "Waiting firings dropped because their trigger was removed.", S(timers_dropped)},
    {"nudged_deliveries_sent_total", "Deliveries that succeeded.", S(deliveries_sent)},
    {"nudged_deliveries_failed_total", "Delivery attempts that failed.", S(deliveries_failed)},
    {"nudged_deliveries_retried_total", "Deliveries scheduled for another attempt.", S(deliveries_retried)},
    {"nudged_deliveries_dead_total", "Deliveries given up, moved to the dead stream.", S(deliveries_dead)},
    {"nudged_emails_sent_total", "Emails the SMTP server accepted.", S(emails_sent)},
    {"nudged_emails_suppressed_total", "Emails not sent: the customer unsubscribed.", S(emails_suppressed)},
    {"nudged_emails_capped_total", "Emails not sent: the customer reached the frequency cap.", S(emails_capped)},
    {"nudged_emails_retried_total", "Emails scheduled for another attempt (SMTP 4xx, no connection).",
     S(emails_retried)},
    {"nudged_emails_dead_total", "Emails given up (SMTP 5xx, bad address, retries spent).", S(emails_dead)},
    {"nudged_scheduled_moved_total", "Due schedule items moved to their stream.", S(scheduled_moved)},
    {"nudged_reloads_total", "Trigger reloads that succeeded.", S(reloads)},
    {"nudged_reload_failures_total", "Trigger reloads that kept the old set.", S(reload_failures)},
    {"nudged_redis_refused_writes_total", "Writes Redis refused for want of memory (maxmemory, noeviction).",
     S(redis_refused_writes)},
};

void metrics_gauge(struct buf *out, const char *name, const char *help, uint64_t v, const char *type)
{
    if (util_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v) != 0)
        return; /* the buffer's maximum: the scrape is cut short, never overrun */
}

void metrics_histogram(struct buf *out, const char *name, const char *help, const struct histogram *h)
{
    uint64_t cum = 0;
    int rc = util_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < STATS_BUCKETS; i++) {
        cum += h->bucket[i];
        rc |= util_buf_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, stats_bounds[i], cum);
    }
    cum += h->bucket[STATS_BUCKETS];
    rc |= util_buf_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n%s_count %" PRIu64 "\n", name, cum,
                          name, h->sum, name, h->count);
    (void)rc; /* at the buffer's maximum the scrape is cut short, never overrun */
}

/* The delivery counters by action kind: webhooks are what is not email. */
static void by_kind(struct buf *out, const struct stats *s)
{
    static const char *const outcome[] = {"sent", "failed", "retried", "dead"};
    const uint64_t all[] = {s->deliveries_sent, s->deliveries_failed, s->deliveries_retried, s->deliveries_dead};
    const uint64_t email[] = {s->emails_sent, s->emails_failed, s->emails_retried, s->emails_dead};
    int rc = util_buf_adds(out, "# HELP nudged_deliveries_by_kind_total Delivery outcomes by action kind.\n"
                                "# TYPE nudged_deliveries_by_kind_total counter\n");
    for (size_t i = 0; i < 4; i++)
        rc |= util_buf_printf(out,
                              "nudged_deliveries_by_kind_total{kind=\"webhook\",outcome=\"%s\"} %" PRIu64 "\n"
                              "nudged_deliveries_by_kind_total{kind=\"email\",outcome=\"%s\"} %" PRIu64 "\n",
                              outcome[i], all[i] - email[i], outcome[i], email[i]);
    (void)rc;
}

/* Per trigger id: ids are [a-z0-9_-], safe as label values, and as many
 * as the triggers ever loaded. */
static void by_trigger(struct buf *out, const struct stats *s)
{
    static const struct {
        const char *name, *help, *arm; /* arm NULL: no arm label */
    } m[STATS_PER_TRIGGER] = {
        [STATS_FIRED] = {"nudged_trigger_fired_total", "Firings that acted, by trigger.", NULL},
        [STATS_HELD_OUT] = {"nudged_trigger_held_out_total", "Firings held out (no action ran), by trigger.", NULL},
        [STATS_CONVERTED_TREATED] = {"nudged_trigger_conversions_total",
                                     "Firings that converted (reached their goal), by trigger and arm.", "treated"},
        [STATS_CONVERTED_HELD_OUT] = {"nudged_trigger_conversions_total", NULL, "held_out"},
    };
    int rc = 0;
    for (int i = 0; i < STATS_PER_TRIGGER; i++) {
        const char *id;
        json_t *v;
        if (m[i].help)
            rc |= util_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", m[i].name, m[i].help, m[i].name);
        json_object_foreach(s->per_trigger[i], id, v)
        {
            rc |= util_buf_printf(out, "%s{trigger=\"%s\"%s%s%s} %" JSON_INTEGER_FORMAT "\n", m[i].name, id,
                                  m[i].arm ? ",arm=\"" : "", m[i].arm ? m[i].arm : "", m[i].arm ? "\"" : "",
                                  json_integer_value(v));
        }
    }
    (void)rc;
}

void metrics_format(const struct stats *s, const struct metrics_gauges *g, struct buf *out)
{
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        metrics_gauge(out, counters[i].name, counters[i].help, *(const uint64_t *)((const char *)s + counters[i].off),
                      "counter");
    metrics_gauge(out, "nudged_redis_reconnects_total", "Reconnects to Redis, over all connections.",
                  g->redis_reconnects, "counter");
    metrics_gauge(out, "nudged_redis_cluster_redirects_total",
                  "On a Redis Cluster: MOVED and ASK redirections followed (a slot moving, a failover).",
                  g->redis_redirects, "counter");
    metrics_gauge(out, "nudged_redis_cluster_map_reads_total", "On a Redis Cluster: slot maps read (CLUSTER SLOTS).",
                  g->redis_map_reads, "counter");
    metrics_gauge(out, "nudged_redis_up", "1 when the command connection to Redis is up.", (uint64_t)g->redis_up,
                  "gauge");
    metrics_gauge(out, "nudged_start_time_seconds", "When this process started, in Unix seconds.",
                  (uint64_t)g->start_time_s, "gauge");
    metrics_gauge(out, "nudged_triggers_loaded", "Triggers in the current set.", g->triggers_loaded, "gauge");
    metrics_gauge(out, "nudged_deliveries_inflight", "Deliveries being sent now.", g->deliveries_inflight, "gauge");
    metrics_gauge(out, "nudged_events_lag",
                  "Entries of the events streams (the inbox and every shard's) not yet read by the group.",
                  g->events_lag, "gauge");
    metrics_gauge(out, "nudged_shards", "Shards the customers are split into ([redis] shards).", g->shards, "gauge");
    metrics_gauge(out, "nudged_shards_owned", "Shards whose lease this process holds.", g->shards_owned, "gauge");
    metrics_gauge(out, "nudged_processes", "Live nudged processes sharing the shards, as this one last saw.",
                  g->processes, "gauge");
    metrics_gauge(out, "nudged_events_pending", "Entries read by the group and not yet acknowledged.",
                  g->events_pending, "gauge");
    by_kind(out, s);
    by_trigger(out, s);
    metrics_histogram(out, "nudged_event_to_delivery_seconds", "From the event's time to the delivery accepted.",
                      &s->event_to_delivery);
    metrics_histogram(out, "nudged_delivery_seconds", "One delivery attempt, request to answer.", &s->delivery_seconds);
}
