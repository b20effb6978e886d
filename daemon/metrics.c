/* metrics.c — one table of counters, so a new counter is one line. Labels
 * are bounded (an action kind, never a customer or a URL). */
#include "metrics.h"

#include <inttypes.h>
#include <stddef.h>

struct metric {
    const char *name, *help;
    size_t off; /* into struct stats */
};

#define S(field) offsetof(struct stats, field)

static const struct metric counters[] = {
    {"nudged_events_consumed_total", "Events read from the events stream.", S(events_consumed)},
    {"nudged_events_rejected_total", "Events that were not valid, moved to the rejected stream.", S(events_rejected)},
    {"nudged_events_duplicate_total", "Events whose messageId was already applied.", S(events_duplicate)},
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
    {"nudged_emails_retried_total", "Emails scheduled for another attempt (SMTP 4xx, no connection).", S(emails_retried)},
    {"nudged_emails_dead_total", "Emails given up (SMTP 5xx, bad address, retries spent).", S(emails_dead)},
    {"nudged_scheduled_moved_total", "Due schedule items moved to their stream.", S(scheduled_moved)},
    {"nudged_reloads_total", "Trigger reloads that succeeded.", S(reloads)},
    {"nudged_reload_failures_total", "Trigger reloads that kept the old set.", S(reload_failures)},
};

static void gauge(struct buf *out, const char *name, const char *help, uint64_t v, const char *type)
{
    if (buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v) != 0)
        return; /* the buffer's maximum: the scrape is cut short, never overrun */
}

void metrics_format(const struct stats *s, const struct metrics_gauges *g, struct buf *out)
{
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        gauge(out, counters[i].name, counters[i].help, *(const uint64_t *)((const char *)s + counters[i].off),
              "counter");
    gauge(out, "nudged_redis_reconnects_total", "Reconnects to Redis, over all connections.", g->redis_reconnects,
          "counter");
    gauge(out, "nudged_redis_up", "1 when the command connection to Redis is up.", (uint64_t)g->redis_up, "gauge");
    gauge(out, "nudged_triggers_loaded", "Triggers in the current set.", g->triggers_loaded, "gauge");
    gauge(out, "nudged_deliveries_inflight", "Deliveries being sent now.", g->deliveries_inflight, "gauge");
}
