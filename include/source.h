/* source.h — what starts a trigger (SPEC 3, "on"): an event, a page (or a
 * page whose path matches a glob), a screen, an identify, a move into a
 * group or a value tier, a silence (no event, or none of one name, for a
 * while), a date in the profile. Loaded from a trigger file's "on";
 * asked whether a message starts the trigger, and, for a silence or a
 * date, when it comes due and with what event. */
#ifndef NUDGED_SOURCE_H
#define NUDGED_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "errlist.h"
#include "message.h"
#include "path.h"

enum source_kind {
    SOURCE_EVENT,
    SOURCE_PAGE,
    SOURCE_PAGE_GLOB,
    SOURCE_SCREEN,
    SOURCE_IDENTIFY,
    SOURCE_GROUP,
    SOURCE_SILENCE,
    SOURCE_DATE,
    SOURCE_VALUE_TIER
};

struct source {
    enum source_kind kind;
    char *arg;             /* owned: the event name, page glob, group or tier; a silence's event name or NULL; a
                              date's trait */
    int64_t silence_ms;    /* SOURCE_SILENCE: how long without an event (of ARG) */
    struct date_rule date; /* SOURCE_DATE: when the trait ARG comes due */
};

/* Loads ON into S; -1 after reporting every problem to D. */
int source_load(struct source *s, json_t *on, const struct diag *d);
void source_clear(struct source *s);

/* Whether message M (with its event in CTX) starts S. A move, a silence
 * and a date start nothing by a message. */
bool source_matches(const struct source *s, const struct message *m, const struct eval_ctx *ctx);

/* A silence: when message M starts S's silence anew (its time plus the
 * silence), or -1 when M is not one of S's events; whether it still holds
 * at DUE for the profile FIELDS (no event since); the event a firing of
 * the trigger ID carries, its messageId "silence:ID@DUE" in MID. */
int64_t source_silence_due(const struct source *s, const struct message *m);
bool source_silence_holds(const struct source *s, json_t *fields, int64_t due);
json_t *source_silence_event(const struct source *s, const char *id, int64_t due, char *mid, size_t midlen);

/* A date: whether MSG sets its trait; the first moment after AFTER_MS it
 * comes due for the profile FIELDS in ZONE (-1: none); the event a firing
 * of the trigger ID carries, its messageId "date:ID@DUE" in MID. */
bool source_date_touched(const struct source *s, json_t *msg);
int64_t source_date_due(const struct source *s, json_t *fields, const struct eval_zone *zone, int64_t after_ms);
json_t *source_date_event(const struct source *s, const char *id, int64_t due, char *mid, size_t midlen);

#endif
