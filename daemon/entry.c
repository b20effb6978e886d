/* entry.c — a stream entry read into an entry and validated (see entry.h). */
#include "entry.h"
#include "customer.h"
#include "jparse.h"
#include "rchain.h"
#include "schedule.h"
#include "shard.h"
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
        if (strcmp(f->str, timers ? SCHEDULE_EVENT_FIELD : "message") == 0) {
            if (e->nmessage++ == 0) {
                e->raw = util_xstrndup(v->str, v->len);
                e->rawlen = v->len;
            }
        } else if (!timers && strcmp(f->str, ENTRY_INBOX_ID) == 0 && e->inbox_id == NULL) {
            e->inbox_id = util_xstrndup(v->str, v->len);
        } else if (timers) {
            json_t *s = json_stringn(v->str, v->len);
            json_object_set_new(e->timer, f->str, s ? s : json_string(""));
        }
    }
}

/* A timers entry (schedule.h): a waiting firing, with the event itself
 * (already validated when it arrived), or a regroup. */
static void timer_load(struct entry *e)
{
    struct schedule_timer t;
    if (schedule_read(e->timer, &t, e->err, sizeof e->err) != 0)
        return;
    if (t.kind == SCHEDULE_SILENCE || t.kind == SCHEDULE_DATE) { /* its event is made when judged */
        e->m = (struct message){MESSAGE_TRACK, t.customer, e->gmid, "", t.due, NULL};
        e->tid = t.trigger;
        e->silence = t.kind == SCHEDULE_SILENCE;
        e->date = t.kind == SCHEDULE_DATE;
        e->valid = true;
        return;
    }
    if (t.kind == SCHEDULE_REGROUP) {
        e->m = (struct message){MESSAGE_TRACK, t.customer, e->gmid, "", t.due, NULL};
        e->regroup = true;
        e->valid = true;
        return;
    }
    if (e->msg == NULL) {
        snprintf(e->err, sizeof e->err, "a timers entry without trigger, customer, mid, ets or event");
        return;
    }
    /* Only the customer, messageId and time of the message are read later. */
    e->m = (struct message){MESSAGE_TRACK, t.firing.customer, t.firing.mid, "", t.firing.ets, NULL};
    e->tid = t.firing.trigger;
    e->ets = t.firing.ets;
    e->strict = t.firing.strict;
    e->valid = true;
}

bool entry_is_order(const struct entry *e)
{
    return e->timer == NULL && e->m.type == MESSAGE_TRACK && e->m.name && strcmp(e->m.name, CUSTOMER_ORDER_EVENT) == 0;
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
    const char *default_mid = e->inbox_id ? e->inbox_id : e->id;
    e->valid = message_validate(e->msg, default_mid, now_ms, &e->m, e->err, sizeof e->err) == 0;
}

int entry_reject_send(struct rconn *rc, const struct keys *k, const struct entry *e, redisCallbackFn *fn, void *priv)
{
    struct rchain *ch = rchain_new(rc, fn, priv);
    struct cmd c;
    cmd_init(&c);
    const char *head[] = {"XADD", k->rejected, "MAXLEN", "~", "100000", "*", "message"};
    cmd_addsv(&c, head, sizeof head / sizeof *head);
    cmd_add(&c, e->raw ? e->raw : "", e->rawlen < ENTRY_REJECT_MESSAGE_MAX ? e->rawlen : ENTRY_REJECT_MESSAGE_MAX);
    const char *tail[] = {"error", e->err, "id", e->id};
    cmd_addsv(&c, tail, sizeof tail / sizeof *tail);
    rchain_add(ch, &c);
    cmd_free(&c);
    const char *ack[] = {"XACK", e->stream, k->group, e->id};
    rchain_addv(ch, ack, sizeof ack / sizeof *ack);
    return rchain_send(ch);
}

void entry_keep_to_shard(struct entry *e, unsigned shards, const char **merge_dropped)
{
    *merge_dropped = NULL;
    if (!e->valid)
        return;
    unsigned k = shard_of(e->m.customer, shards);
    if (k != e->stream_index) {
        snprintf(e->err, sizeof e->err,
                 "customer %.64s belongs to shard %u, and on Redis Cluster its events must be in that shard's stream "
                 "(nudged shard ID names it), not in %s",
                 e->m.customer, k, e->stream);
        e->valid = false;
    } else if (e->m.merge_from && shard_of(e->m.merge_from, shards) != k) {
        *merge_dropped = e->m.merge_from;
        e->m.merge_from = NULL;
    }
}

void entry_clear(struct entry *e)
{
    free(e->id);
    free(e->inbox_id);
    free(e->raw);
    json_decref(e->msg);
    json_decref(e->timer);
    free(e->redirect);
    json_decref(e->fields);
    json_decref(e->customer);
    json_decref(e->state);
    free(e->cand);
    free(e->goals);
}
