/* profile.c — the profile script's arguments, and the hash read back. */
#include "profile.h"
#include "hashid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void profile_begin(struct cmd *c, const struct scripts *s, const struct keys *k, size_t nevents)
{
    scripts_begin(c, s, SCRIPT_PROFILE, (int)(2 + 4 * nevents));
    cmd_adds(c, k->schedule);
    cmd_adds(c, k->buyers);
}

void profile_add_keys(struct cmd *c, const struct keys *k, const char *customer)
{
    for (const char *x = "pdas"; *x; x++) /* the order the scripts take them in */
        keys_add_customer(c, k, customer, *x);
}

void profile_add_opts(struct cmd *c, const struct profile_opts *o)
{
    cmd_addi(c, o->now_ms);
    cmd_addi(c, PROFILE_DEDUP_WINDOW_MS);
    cmd_addi(c, o->ttl_ms);
    cmd_addi(c, o->active_ms);
}

/* Starts one extra of an event (see the profile script): its tag; the
 * caller adds its two strings. */
static void add_extra(struct cmd *c, const char *tag, int64_t *n)
{
    cmd_adds(c, tag);
    (*n)++;
}

/* The event's code for the profile script: what it wants back (0 never, 1
 * always, 2 when the group moved), plus 3 when the message identifies the
 * customer, plus 6 for an order, plus 12 per extra. One argument for what
 * were four strings for an order (flags, count, "o" and the customer id,
 * which the script takes from the key) and two for other events. */
static int64_t event_code(const struct customer_update *u, enum profile_want want, int64_t nextra)
{
    int64_t code = want == PROFILE_ALWAYS ? 1 : want == PROFILE_IF_MOVED ? 2 : 0;
    if (u->identified)
        code += 3;
    if (strcmp(u->name, CUSTOMER_ORDER_EVENT) == 0)
        code += 6;
    return code + 12 * nextra;
}

void profile_add_event(struct cmd *c, const struct message *m, const struct customer_update *u, enum profile_want want)
{
    unsigned char h[HASHID_DEDUP_LEN];
    const char *field[] = {"e:", u->name};
    int64_t nextra = 0;
    hashid_message(m->message_id, h);
    cmd_addcopy(c, h, HASHID_DEDUP_LEN);
    cmd_addcat(c, field, 2);
    cmd_addi(c, u->ts_ms);
    size_t code = c->n;
    cmd_addi(c, 0);
    if (u->tz) {
        add_extra(c, "z", &nextra);
        cmd_adds(c, u->tz);
        cmd_adds(c, "");
    }
    for (size_t i = 0; i < u->ncounters; i++) {
        add_extra(c, "c", &nextra);
        cmd_adds(c, u->counters[i]->field);
        cmd_addi(c, u->counters[i]->window_ms);
    }
    const char *name;
    json_t *v;
    json_object_foreach(u->traits, name, v)
    { /* copied: U's traits are freed before the send */
        char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (dump == NULL)
            continue;
        add_extra(c, "t", &nextra);
        cmd_addcopy(c, name, strlen(name));
        cmd_addscopy(c, dump);
        free(dump);
    }
    if (u->has_revenue) {
        add_extra(c, "r", &nextra);
        cmd_addf(c, "%.15g", u->revenue);
        cmd_adds(c, "");
    }
    cmd_set_int(c, code, event_code(u, want, nextra));
}

void profile_read_cmd(struct cmd *c, const struct keys *k, const char *customer)
{
    cmd_reset(c);
    cmd_adds(c, "HGETALL");
    keys_add_customer(c, k, customer, 'p');
}

json_t *profile_fields(const redisReply *fields)
{
    json_t *o = json_object();
    for (size_t i = 0; fields && i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
            json_object_set_new(o, k->str, json_stringn(v->str, v->len));
    }
    return o;
}

void profile_forget_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *id)
{
    if (s)
        scripts_begin(c, s, SCRIPT_FORGET, 6);
    else
        scripts_begin_eval(c, SCRIPT_FORGET, 6);
    for (const char *x = "pdsm"; *x; x++)
        keys_add_customer(c, k, id, *x);
    cmd_adds(c, k->schedule);
    cmd_adds(c, k->buyers);
    cmd_adds(c, k->prefix);
    cmd_adds(c, id);
}

void profile_merge_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const char *from, const char *into,
                       int64_t ttl_ms)
{
    scripts_begin(c, s, SCRIPT_MERGE, 11);
    for (const char *x = "pdsa"; *x; x++)
        keys_add_customer(c, k, from, *x);
    for (const char *x = "pdsm"; *x; x++)
        keys_add_customer(c, k, into, *x);
    cmd_adds(c, k->schedule);
    keys_add_customer(c, k, into, 'a');
    cmd_adds(c, k->buyers);
    cmd_adds(c, from);
    cmd_adds(c, into);
    cmd_addi(c, ttl_ms);
    cmd_adds(c, "e:" CUSTOMER_ORDER_EVENT);
}
