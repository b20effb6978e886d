/* profile.c — the profile's reads and its commit's arguments. */
#include "profile.h"
#include "hashid.h"
#include "schedule.h"
#include "tally.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A 64th of the shorter of the dedup window and the profile's ttl. */
static int64_t profile_ttl_slack(int64_t ttl_ms)
{
    int64_t shorter = PROFILE_DEDUP_WINDOW_MS < ttl_ms ? PROFILE_DEDUP_WINDOW_MS : ttl_ms;
    return shorter / 64 > 1 ? shorter / 64 : 1;
}

int64_t profile_ttl_period(int64_t now_ms, int64_t ttl_ms)
{
    return now_ms / profile_ttl_slack(ttl_ms);
}

/* How long a customer's dedup set lives after its last write: the dedup
 * window (or the profile's ttl, when shorter) and the slack. */
static int64_t dedup_ttl(int64_t ttl_ms)
{
    return (PROFILE_DEDUP_WINDOW_MS < ttl_ms ? PROFILE_DEDUP_WINDOW_MS : ttl_ms) + profile_ttl_slack(ttl_ms);
}

/* The fields BEFORE names (those the round touched, with the value each
 * had: null for none) whose value in AFTER differs, as pairs, then those
 * gone from AFTER; counts them in *NSET and *NDEL. */
static void add_diff(struct cmd *c, json_t *before, json_t *after, int64_t *nset, int64_t *ndel)
{
    const char *k;
    json_t *old;
    *nset = *ndel = 0;
    json_object_foreach(before, k, old)
    {
        json_t *now = json_object_get(after, k);
        if (now == NULL || (!json_is_null(old) && json_equal(old, now)))
            continue;
        (*nset)++;
        cmd_adds(c, k);
        cmd_add(c, json_string_value(now), json_string_length(now));
    }
    json_object_foreach(before, k, old)
    {
        if (json_object_get(after, k) == NULL && !json_is_null(old)) {
            (*ndel)++;
            cmd_adds(c, k);
        }
    }
}

/* The code of a customer's part of the commit (see commit.lua): the
 * number of hashes and of fields deleted, 16 bits each, then the flags
 * and 16 x the number of schedule items. */
#define CODE_BASE 65536LL
enum { FLAG_REFRESH = 1, FLAG_TRIM = 2, FLAG_BUYER = 4, FLAG_SEEN_TTL = 8, FLAG_ITEMS = 16 };

static void add_item(struct cmd *c, int64_t due, const char *member)
{
    cmd_addi(c, due);
    cmd_addscopy(c, member);
}

/* Whether CH schedules an item: the commit then names its shard's
 * schedule. */
static bool has_items(const struct profile_change *ch)
{
    return ch->nitems > 0 || ch->regroup_due;
}

/* One customer's part of the commit call (see commit.lua). */
static void add_change(struct cmd *c, struct profile_change *ch)
{
    int64_t nset, ndel, nitems = (int64_t)ch->nitems + (ch->regroup_due ? 1 : 0),
                        flags = (ch->refresh ? FLAG_REFRESH : 0) | (ch->trim ? FLAG_TRIM : 0) |
                                (ch->buyer ? FLAG_BUYER : 0) | (ch->seen_ttl ? FLAG_SEEN_TTL : 0) | FLAG_ITEMS * nitems;
    cmd_addi(c, ch->expect);
    size_t code = c->n;
    cmd_addi(c, 0); /* the number of pairs, and the code, once known */
    cmd_addi(c, 0);
    add_diff(c, ch->before, ch->after, &nset, &ndel);
    for (size_t i = 0; i < ch->nseen; i++)
        cmd_addcopy(c, ch->seen + i * HASHID_DEDUP_LEN, HASHID_DEDUP_LEN);
    for (size_t i = 0; i < ch->nitems; i++)
        add_item(c, ch->items[i].due, ch->items[i].member);
    if (ch->regroup_due) {
        char *item = schedule_regroup_item(ch->customer);
        add_item(c, ch->regroup_due, item);
        free(item);
    }
    if (ch->buyer) {
        const char *rv = json_string_value(json_object_get(ch->after, "rv"));
        cmd_adds(c, rv ? rv : "0"); /* the member is the profile's key, which the script has */
    }
    /* A round applies at most a batch (10,000) of a customer's events and
     * firings, each touching a few fields: both stay below 2^16. */
    cmd_set_int(c, code, nset);
    cmd_set_int(c, code + 1, (int64_t)ch->nseen + CODE_BASE * (ndel + CODE_BASE * flags));
    ch->wrote = nset > 0 || ndel > 0 || ch->nseen > 0;
}

void profile_commit_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const struct profile_commit *o,
                        struct profile_change *ch, size_t n)
{
    size_t nkeys = 1 + o->nleases + o->nacks + 9 * o->nmerges + 3 * n + o->ndeliveries;
    for (size_t i = 0; i < n; i++)
        nkeys += has_items(&ch[i]) + ch[i].buyer;
    scripts_begin(c, s, SCRIPT_COMMIT, (int)nkeys);
    cmd_adds(c, k->tally[o->shard]);
    for (size_t i = 0; i < o->nleases; i++)
        cmd_adds(c, o->leases[i]);
    for (size_t i = 0; i < o->nacks; i++)
        cmd_adds(c, o->acks[i].stream);
    for (size_t i = 0; i < o->nmerges; i++) {
        keys_add_customer(c, k, o->merges[i].from, "pdsa");
        keys_add_customer(c, k, o->merges[i].into, "sm");
        cmd_adds(c, k->schedule[keys_shard(k, o->merges[i].from)]);
        cmd_adds(c, k->schedule[keys_shard(k, o->merges[i].into)]);
        cmd_adds(c, k->buyers[keys_shard(k, o->merges[i].from)]);
    }
    for (size_t i = 0; i < n; i++) {
        keys_add_customer(c, k, ch[i].customer, "pds");
        unsigned shard = has_items(&ch[i]) || ch[i].buyer ? keys_shard(k, ch[i].customer) : 0;
        if (has_items(&ch[i]))
            cmd_adds(c, k->schedule[shard]);
        if (ch[i].buyer)
            cmd_adds(c, k->buyers[shard]);
    }
    for (size_t i = 0; i < o->ndeliveries; i++)
        cmd_adds(c, k->actions[o->deliveries[i].shard]);
    cmd_adds(c, o->owner);
    cmd_addi(c, (int64_t)o->nleases);
    cmd_addi(c, o->ttl_ms + profile_ttl_slack(o->ttl_ms));
    cmd_addi(c, dedup_ttl(o->ttl_ms));
    /* A dedup member's score is minus the second it was written: the
     * newest is the lowest, so ZADD puts it at the head of the listpack
     * instead of scanning the scores to the end. */
    cmd_addf(c, "-%lld", (long long)(o->now_ms / 1000));
    cmd_addf(c, "(%lld", (long long)-((o->now_ms - PROFILE_DEDUP_WINDOW_MS) / 1000));
    cmd_adds(c, k->group);
    cmd_addi(c, (int64_t)o->nacks);
    cmd_adds(c, o->delete_acked ? "1" : "0");
    cmd_addi(c, (int64_t)o->ndeliveries);
    tally_format(c, o->counts);
    cmd_addi(c, (int64_t)o->nmerges);
    for (size_t i = 0; i < o->nmerges; i++) {
        cmd_adds(c, o->merges[i].into); /* the anonymous id is in its keys */
        cmd_addi(c, o->merges[i].expect);
    }
    for (size_t i = 0; i < o->ndeliveries; i++)
        cmd_adds(c, o->deliveries[i].text);
    for (size_t i = 0; i < o->nacks; i++) {
        cmd_addi(c, (int64_t)o->acks[i].n);
        for (size_t j = 0; j < o->acks[i].n; j++)
            cmd_adds(c, o->acks[i].ids[j]);
    }
    for (size_t i = 0; i < n; i++)
        add_change(c, &ch[i]);
}

void profile_read_cmd(struct cmd *c, const struct keys *k, const char *customer)
{
    cmd_reset(c);
    cmd_adds(c, "HGETALL");
    keys_add_customer(c, k, customer, "p");
}

void profile_seen_cmd(struct cmd *c, const struct keys *k, const char *customer)
{
    cmd_reset(c);
    cmd_adds(c, "ZRANGE");
    keys_add_customer(c, k, customer, "d");
    cmd_adds(c, "0");
    cmd_adds(c, "-1");
}

void profile_link_cmd(struct cmd *c, const struct keys *k, const char *customer)
{
    cmd_reset(c);
    cmd_adds(c, "GET");
    keys_add_customer(c, k, customer, "a");
}

void profile_index_cmd(struct cmd *c, const struct keys *k, const char *customer)
{
    cmd_reset(c);
    cmd_adds(c, "SCARD");
    keys_add_customer(c, k, customer, "s");
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
    keys_add_customer(c, k, id, "pdsm");
    cmd_adds(c, k->schedule[keys_shard(k, id)]);
    cmd_adds(c, k->buyers[keys_shard(k, id)]);
}
