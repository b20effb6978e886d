/* date.h — when a date in a customer's profile comes due: birthdays,
 * anniversaries, trial ends, renewals (on: {"date": ...} triggers).
 *
 * A date is "YYYY-MM-DD" or an ISO-8601 timestamp. A date comes due at
 * local time AT (default 09:00) in the customer's zone; a timestamp at its
 * own moment, or at AT on its local day when AT is given. OFFSET shifts
 * the result (negative: before). Every year: each anniversary at the same
 * local time; 29 February comes due on 28 February in other years. */
#ifndef NUDGED_DATE_H
#define NUDGED_DATE_H

#include <stdbool.h>
#include <stdint.h>

#include "path.h"

struct date_rule {
    int at_min;        /* minutes after local midnight; -1: none given */
    int64_t offset_ms; /* added to the moment; may be negative */
    bool every_year;
};

/* "HH:MM" (24-hour clock) into minutes after midnight, or -1: a date's
 * time of day, and quiet hours. */
int date_parse_hhmm(const char *s);

/* The first moment after AFTER_MS at which VALUE comes due under RULE for
 * a customer in ZONE_NAME (NULL: the default, as ZONE says), or -1: VALUE
 * is no date, or (once only) that moment is not after AFTER_MS. */
int64_t date_due(const struct date_rule *rule, const char *value, const struct eval_zone *zone, const char *zone_name,
                 int64_t after_ms);

#endif
