/* schedule.h — the schedule item: one thing due later, in a shard's
 * schedule, <prefix>schedule:{k}.
 *
 * <prefix>schedule:{k} is a sorted set scored by the due time (ms); each
 * member is a JSON object of strings, of one of three kinds:
 *
 *   a delivery     an outbox record (outbox.h) to retry, or an email that
 *                  waits for the end of quiet hours; it has no "k". When
 *                  due it goes to the shard's outbox as it is.
 *   "k": "t"       a waiting firing (delay, unless): trigger, customer,
 *                  mid (the event's messageId), ets (its time, ms), strict
 *                  ("1" when the event was itself an unless event), event
 *                  (the message as JSON). Written by firing.c.
 *   "k": "g"       a regroup: customer, whose active period runs out then
 *                  (schedule_regroup_item; committed with the order).
 *   "k": "s"       a silence: trigger, customer. One member per trigger and
 *                  customer, armed by the customer's events and moved later
 *                  by each (daemon/lua/arm.lua; never earlier).
 *   "k": "d"       a date: trigger, customer. One member per trigger and
 *                  customer, armed when an event sets the trait, and again
 *                  for the next year when it fired (arm.lua).
 *
 * The last four go, when due, to the shard's <prefix>timers:{k} as fields, with "due" (the
 * due time) added (daemon/lua/due.lua); schedule_read reads them back.
 * A member is written with sorted keys, so the same firing of the same
 * event is the same member and is scheduled once. Each customer's items
 * are also in their index <prefix>{k}:ID:s, for erasure and merges.
 */
#ifndef NUDGED_SCHEDULE_H
#define NUDGED_SCHEDULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum schedule_kind { SCHEDULE_FIRING, SCHEDULE_REGROUP, SCHEDULE_SILENCE, SCHEDULE_DATE };

/* A waiting firing as its item has it; strings borrowed. */
struct schedule_firing {
    const char *trigger, *customer, *mid;
    int64_t ets;
    bool strict;
    const char *event; /* the message as JSON */
};

/* F's schedule member: a new string, caller frees. */
char *schedule_firing_item(const struct schedule_firing *f);

/* The item of KIND (SCHEDULE_SILENCE or SCHEDULE_DATE) of TRIGGER for
 * CUSTOMER: a new string, caller frees. */
char *schedule_trigger_item(enum schedule_kind kind, const char *trigger, const char *customer);

/* The regroup item of CUSTOMER: a new string, caller frees. */
char *schedule_regroup_item(const char *customer);

/* A timers entry read back: its kind and members (borrowed from the
 * FIELDS it was read from). */
struct schedule_timer {
    enum schedule_kind kind;
    struct schedule_firing firing; /* SCHEDULE_FIRING; its event is the entry's "event" field */
    const char *customer;          /* SCHEDULE_REGROUP, _SILENCE, _DATE */
    const char *trigger;           /* SCHEDULE_SILENCE, _DATE */
    int64_t due;                   /* SCHEDULE_REGROUP, _SILENCE, _DATE */
};

/* The field of a timers entry that holds a waiting firing's event. */
#define SCHEDULE_EVENT_FIELD "event"

/* Reads a timers entry's FIELDS (an object of strings, the event field
 * left out) into T. Returns 0, or -1 with why in ERR. */
int schedule_read(json_t *fields, struct schedule_timer *t, char *err, size_t errlen);

#endif
