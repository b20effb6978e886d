/* message.h — validate one Segment-shaped message (SPEC 1.1) and fill in its
 * defaults. Pure: the caller passes "now" and the stream entry id. */
#ifndef NUDGED_MESSAGE_H
#define NUDGED_MESSAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MESSAGE_ID_MAX 256

/* A screen is a page view of an app; a group puts the customer in a
 * company or account (its groupId and traits land in traits.group). */
enum message_type { MESSAGE_TRACK, MESSAGE_PAGE, MESSAGE_IDENTIFY, MESSAGE_ALIAS, MESSAGE_SCREEN, MESSAGE_GROUP };

#define MESSAGE_TYPES 6

/* What the rest of nudged needs from a valid message. Every pointer borrows
 * from the json_t the message was validated from. */
struct message {
    enum message_type type;
    const char *customer;   /* userId, else anonymousId */
    const char *message_id; /* messageId, else the stream entry id */
    const char *name;       /* the event name in the profile: the track event,
                               or "page", "screen", "identify", "group",
                               "alias" */
    int64_t ts_ms;          /* timestamp, else now */
    const char *merge_from; /* the id this message links into CUSTOMER:
                               an identify's anonymousId when it also has a
                               userId, an alias's previousId; else NULL */
};

/* The type named NAME; -1 when NAME is not one of the six types. */
int message_type_parse(const char *name);

/* The name of type T ("track" ...); static. */
const char *message_type_name(enum message_type t);

/* Checks MSG against SPEC 1.1. On success fills OUT, adds the defaults
 * (messageId, timestamp as ISO-8601) to MSG and returns 0. On failure writes
 * a one-line reason to ERR and returns -1. */
int message_validate(json_t *msg, const char *entry_id, int64_t now_ms, struct message *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Parses ISO-8601 ("2026-11-22T10:00:00Z", fractions and ±HH:MM offsets
 * allowed) into ms since the epoch. Returns 0, or -1 when not a timestamp. */
int message_parse_time(const char *s, int64_t *out_ms) __attribute__((warn_unused_result));

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * algorithm); M and D are not checked. */
int64_t message_days_from_civil(int y, int m, int d);

/* Formats MS as "YYYY-MM-DDTHH:MM:SS.mmmZ" into OUT (at least 32 bytes). */
void message_format_time(int64_t ms, char *out, size_t outlen);

#endif
