/* stats.h — the counters nudged keeps (logged in STATUS= now, /metrics later). */
#ifndef NUDGED_STATS_H
#define NUDGED_STATS_H

#include <stdint.h>

struct stats {
    uint64_t events_consumed, events_rejected, events_duplicate;
    uint64_t triggers_fired, triggers_limited, triggers_scheduled, triggers_cancelled, timers_dropped;
    uint64_t deliveries_sent, deliveries_retried, deliveries_dead, deliveries_failed;
    uint64_t emails_sent, emails_suppressed, emails_retried, emails_dead;
    uint64_t scheduled_moved;
    uint64_t reloads, reload_failures;
};

#endif
