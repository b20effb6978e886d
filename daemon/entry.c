/* entry.c — a stream entry read into an entry and validated (see entry.h). */
#include "entry.h"
#include "jparse.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The id, the message (field "message" of an events entry, "event" of a
 * timers entry: nudged writes those) and, for a timers entry, its other
 * fields. A second message field is counted, not read: the entry is then
 * refused, as neither of the two can be taken for the producer's. */
static void entry_raw(struct entry *e, const redisReply *r, bool timers)
{
    const redisReply *fields = r->element[1];
    e->id = util_xstrndup(r->element[0]->str, r->element[0]->len);
    e->timer = timers ? json_object() : NULL;
    for (size_t k = 0; k + 1 < fields->elements; k += 2) {
        const redisReply *f = fields->element[k], *v = fields->element[k + 1];
        if (strcmp(f->str, timers ? "event" : "message") == 0) {
            if (e->nmessage++ == 0) {
                e->raw = util_xstrndup(v->str, v->len);
                e->rawlen = v->len;
            }
        } else if (timers) {
            json_t *s = json_stringn(v->str, v->len);
            json_object_set_new(e->timer, f->str, s ? s : json_string(""));
        }
    }
}

static const char *timer_field(const struct entry *e, const char *name)
{
    return json_string_value(json_object_get(e->timer, name));
}

/* A regroup timers entry: only the customer and when it came due. */
static void regroup_load(struct entry *e)
{
    const char *cust = timer_field(e, "customer"), *due = timer_field(e, "due");
    long long t;
    if (!cust || !due || util_parse_int(due, &t) != 0) {
        snprintf(e->err, sizeof e->err, "a regroup timers entry without customer or due");
        return;
    }
    e->m = (struct message){MESSAGE_TRACK, cust, e->gmid, "", t, NULL};
    e->regroup = true;
    e->valid = true;
}

/* A timers entry: the waiting firing's trigger, customer, messageId, event
 * time and the event itself (already validated when it arrived). */
static void timer_load(struct entry *e)
{
    const char *kind = timer_field(e, "k");
    if (kind && strcmp(kind, "g") == 0) {
        regroup_load(e);
        return;
    }
    const char *trigger = timer_field(e, "trigger"), *cust = timer_field(e, "customer"), *mid = timer_field(e, "mid"),
               *ets = timer_field(e, "ets");
    long long t;
    if (!trigger || !cust || !mid || !ets || util_parse_int(ets, &t) != 0 || e->msg == NULL) {
        snprintf(e->err, sizeof e->err, "a timers entry without trigger, customer, mid, ets or event");
        return;
    }
    const char *strict = timer_field(e, "strict");
    /* Only the customer, messageId and time of the message are read later. */
    e->m = (struct message){MESSAGE_TRACK, cust, mid, "", t, NULL};
    e->tid = trigger;
    e->ets = t;
    e->strict = strict && strcmp(strict, "1") == 0;
    e->valid = true;
}

void entry_load(struct entry *e, const redisReply *r, bool timers, int64_t now_ms)
{
    entry_raw(e, r, timers);
    json_error_t je;
    e->msg = e->raw ? jparse_loadb(e->raw, e->rawlen, &je) : NULL;
    if (timers) {
        timer_load(e);
        return;
    }
    if (e->raw == NULL) {
        snprintf(e->err, sizeof e->err, "the entry has no field \"message\"");
        return;
    }
    if (e->nmessage > 1) {
        snprintf(e->err, sizeof e->err, "the entry has %d fields \"message\": it must have exactly one", e->nmessage);
        return;
    }
    if (e->msg == NULL) {
        snprintf(e->err, sizeof e->err, "not valid JSON: %s at line %d column %d", je.text, je.line, je.column);
        return;
    }
    e->valid = message_validate(e->msg, e->id, now_ms, &e->m, e->err, sizeof e->err) == 0;
}

void entry_clear(struct entry *e)
{
    free(e->id);
    free(e->raw);
    json_decref(e->msg);
    json_decref(e->timer);
    free(e->redirect);
    json_decref(e->fields);
    json_decref(e->customer);
    json_decref(e->state);
    free(e->cand);
}
