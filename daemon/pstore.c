/* pstore.c — the profiles a process works on: read on a miss, applied in
 * memory, a round's changes committed in one call (see pstore.h). */
#include "pstore.h"
#include "clock.h"
#include "cmd.h"
#include "hashid.h"
#include "log.h"
#include "metrics.h"
#include "profile.h"
#include "tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pstore {
    struct pstore_deps d;
    struct pcache *cache;
    struct cmd call;
};

/* What a round changed in one profile: the fields it touched with the
 * values they had, the version it began with, from which of its message
 * hashes on they are new, and the customer's schedule items. */
struct change {
    struct pcache_profile *p; /* pinned */
    json_t *before;
    int64_t expect;
    size_t seen_from;
    bool order, buyer; /* an order came; the buyers zset gets its revenue */
    bool event;        /* an event came (or a merge): the keys' time to live runs from now */
    bool gone;         /* merged into a user: its keys go, it is written by the merge alone */
    struct profile_item *items;
    size_t nitems, items_cap;
};

/* An entry to ack with the commit: both borrowed from the batch. */
struct ack {
    const char *stream, *id;
};

struct pstore_round {
    struct pstore *s;
    pstore_step_fn *step;
    void *data;
    bool *failed;
    struct change *changes;
    size_t nchanges, cap;
    struct profile_delivery *deliveries; /* their texts owned */
    size_t ndeliveries, deliveries_cap;
    json_t *counts; /* the counts' increments (measure.h): trigger -> {count -> integer} */
    struct ack *acks;
    size_t nacks, acks_cap;
    struct profile_merge *merges; /* their ids borrowed from the profiles, pinned by their changes */
    size_t nmerges, merges_cap;
};

struct pstore *pstore_new(const struct pstore_deps *deps)
{
    struct pstore *s = util_xcalloc(1, sizeof *s);
    s->d = *deps;
    s->cache = pcache_new((size_t)deps->cfg->redis_cache_size);
    cmd_init(&s->call);
    return s;
}

void pstore_free(struct pstore *s)
{
    if (s == NULL)
        return;
    pcache_free(s->cache);
    cmd_free(&s->call);
    free(s);
}

struct pstore_round *pstore_round_new(struct pstore *s, pstore_step_fn *step, void *data, bool *failed)
{
    struct pstore_round *r = util_xcalloc(1, sizeof *r);
    *r = (struct pstore_round){s, step, data, failed, NULL, 0, 0, NULL, 0, 0, json_object(), NULL, 0, 0, NULL, 0, 0};
    return r;
}

void pstore_round_end(struct pstore_round *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nchanges; i++) {
        if (r->changes[i].p->round == r) /* a later round may have taken it over */
            r->changes[i].p->round = NULL;
        if (*r->failed)
            pcache_drop(r->s->cache, r->changes[i].p, false);
        json_decref(r->changes[i].before);
        for (size_t k = 0; k < r->changes[i].nitems; k++)
            free(r->changes[i].items[k].member);
        free(r->changes[i].items);
        pcache_unpin(r->s->cache, r->changes[i].p);
    }
    for (size_t i = 0; i < r->ndeliveries; i++)
        free(r->deliveries[i].text);
    free(r->deliveries);
    json_decref(r->counts);
    free(r->acks);
    free(r->merges);
    free(r->changes);
    free(r);
}

/* A reply that failed the round: logged, *FAILED set. */
static bool reply_failed(struct pstore_round *r, const redisReply *reply, const char *what)
{
    if (reply == NULL) {
        *r->failed = true;
        return true;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        stats_redis_error(r->s->d.stats, reply->str, what, clock_now_ms());
        *r->failed = true;
        return true;
    }
    return false;
}

/* Sends the command built in S's call; false when it could not go. */
static bool send_cmd(struct pstore_round *r, redisCallbackFn *fn, void *priv)
{
    if (cmd_send(&r->s->call, r->s->d.conn, fn, priv) == 0)
        return true;
    *r->failed = true; /* the connection is going */
    return false;
}

/* A profile read on a miss, in four replies: its hash, the members of
 * its dedup set, its link and its schedule index's size (for its type). */
struct load {
    struct pstore_round *r;
    struct pcache_profile *p; /* pinned */
    int left;
};

/* One reply of L's read: a key of the wrong type (say) leaves its error
 * with the profile, so the customer's events are rejected rather than the
 * batch stuck; a transient error or a connection lost fails the round. */
static bool load_reply(struct load *l, const redisReply *reply)
{
    if (reply && reply->type == REDIS_REPLY_ERROR && !scripts_transient_error(reply->str)) {
        if (l->p->error == NULL)
            l->p->error = util_xstrndup(reply->str, reply->len);
        return false;
    }
    return !reply_failed(l->r, reply, "profile");
}

static void load_step(struct load *l)
{
    struct pstore_round *r = l->r;
    if (--l->left > 0)
        return;
    l->p->loading = false;
    if (l->p->error || *r->failed)
        pcache_drop(r->s->cache, l->p, false);
    else
        pcache_resize(r->s->cache, l->p);
    pcache_unpin(r->s->cache, l->p);
    free(l);
    r->step(r->data);
}

static void on_load_hash(redisAsyncContext *ac, void *reply, void *priv)
{
    struct load *l = priv;
    redisReply *h = reply;
    (void)ac;
    if (load_reply(l, h) && h->type == REDIS_REPLY_ARRAY) {
        json_decref(l->p->fields);
        l->p->fields = profile_fields(h);
        long long v = 0;
        const char *vs = json_string_value(json_object_get(l->p->fields, "v"));
        l->p->version = vs && util_parse_int(vs, &v) == 0 ? v : 0;
        json_object_del(l->p->fields, "v"); /* the version is kept apart: no rule reads it */
    }
    load_step(l);
}

static void on_load_seen(redisAsyncContext *ac, void *reply, void *priv)
{
    struct load *l = priv;
    redisReply *d = reply;
    (void)ac;
    if (load_reply(l, d) && d->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < d->elements; i++) {
            const redisReply *m = d->element[i];
            if (m->type == REDIS_REPLY_STRING && m->len == HASHID_DEDUP_LEN)
                pcache_see(l->p, (const unsigned char *)m->str);
        }
    load_step(l);
}

static void on_load_link(redisAsyncContext *ac, void *reply, void *priv)
{
    struct load *l = priv;
    redisReply *a = reply;
    (void)ac;
    if (load_reply(l, a) && a->type == REDIS_REPLY_STRING)
        l->p->link = util_xstrndup(a->str, a->len);
    load_step(l);
}

/* The schedule index's size, read for its type alone. */
static void on_load_index(redisAsyncContext *ac, void *reply, void *priv)
{
    struct load *l = priv;
    (void)ac;
    load_reply(l, reply);
    load_step(l);
}

/* Reads P (new and empty) from Redis for R: one answer for the four
 * reads; returns 1, or 0 when nothing could be sent (*FAILED set, no
 * answer comes: the caller must not wait for one). */
static size_t send_load(struct pstore_round *r, struct pcache_profile *p)
{
    enum { NREADS = 4 };
    struct load *l = util_xcalloc(1, sizeof *l);
    *l = (struct load){r, p, NREADS};
    p->loading = true;
    pcache_pin(p);
    void (*build[NREADS])(struct cmd *, const struct keys *, const char *) = {profile_read_cmd, profile_seen_cmd,
                                                                              profile_link_cmd, profile_index_cmd};
    redisCallbackFn *fn[NREADS] = {on_load_hash, on_load_seen, on_load_link, on_load_index};
    for (int i = 0; i < NREADS; i++) {
        build[i](&r->s->call, r->s->d.keys, p->id);
        if (!send_cmd(r, fn[i], l)) { /* what was sent is answered with NULL */
            l->left -= NREADS - i;
            break;
        }
    }
    if (l->left > 0)
        return 1;
    p->loading = false; /* nothing was sent */
    pcache_drop(r->s->cache, p, false);
    pcache_unpin(r->s->cache, p);
    free(l);
    return 0;
}

static void on_pong(redisAsyncContext *ac, void *reply, void *priv)
{
    struct pstore_round *r = priv;
    (void)ac;
    reply_failed(r, reply, "profile");
    r->step(r->data);
}

size_t pstore_use(struct pstore_round *r, const char *id, struct pcache_profile **out)
{
    struct pcache_profile *p = pcache_find(r->s->cache, id);
    *out = p;
    if (p == NULL) {
        *out = pcache_add(r->s->cache, id);
        return send_load(r, *out);
    }
    pcache_pin(p);
    if (!p->loading)
        return 0;
    /* Another round is reading it: a PING behind that read is answered
     * once it is in. */
    cmd_reset(&r->s->call);
    cmd_adds(&r->s->call, "PING");
    if (send_cmd(r, on_pong, r))
        return 1;
    return 0;
}

void pstore_release(struct pstore *s, struct pcache_profile *p)
{
    pcache_unpin(s->cache, p);
}

/* The change R makes to P, begun at its first event. */
static struct change *change_of(struct pstore_round *r, struct pcache_profile *p)
{
    if (p->round == r)
        return &r->changes[p->change];
    if (r->nchanges == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->changes = util_xrealloc(r->changes, r->cap * sizeof *r->changes);
    }
    pcache_pin(p);
    p->round = r;
    p->change = r->nchanges;
    r->changes[r->nchanges] =
        (struct change){p, json_object(), p->version, p->nseen, false, false, false, false, NULL, 0, 0};
    return &r->changes[r->nchanges++];
}

static int64_t last_order_ms(json_t *fields)
{
    return customer_last_event_ms(fields, CUSTOMER_ORDER_EVENT);
}

/* P's fields, to be changed: copied first when anyone else holds them (a
 * judged entry holds them as they were). */
static json_t *own_fields(struct pcache_profile *p)
{
    if (p->fields->refcount > 1) {
        json_t *copy = json_copy(p->fields);
        json_decref(p->fields);
        p->fields = copy;
    }
    return p->fields;
}

json_t *pstore_edit(struct pstore_round *r, struct pcache_profile *p, json_t **before)
{
    *before = change_of(r, p)->before;
    return own_fields(p);
}

void pstore_check(struct pstore_round *r, struct pcache_profile *p)
{
    change_of(r, p);
}

bool pstore_first(struct pstore_round *r, struct pcache_profile *p, const unsigned char h[HASHID_DEDUP_LEN])
{
    if (pcache_seen(p, h))
        return false;
    change_of(r, p);
    pcache_see(p, h);
    return true;
}

/* Grows the array *A of *CAP elements of SIZE bytes to hold one more than N. */
static void *grow(void *a, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return a;
    *cap = *cap ? 2 * *cap : 16;
    return util_xrealloc(a, *cap * size);
}

void pstore_deliver(struct pstore_round *r, const struct pcache_profile *p, char *text)
{
    r->deliveries = grow(r->deliveries, r->ndeliveries, &r->deliveries_cap, sizeof *r->deliveries);
    r->deliveries[r->ndeliveries++] = (struct profile_delivery){text, keys_shard(r->s->d.keys, p->id)};
}

void pstore_schedule(struct pstore_round *r, struct pcache_profile *p, int64_t due, char *member)
{
    struct change *ch = change_of(r, p);
    ch->items = grow(ch->items, ch->nitems, &ch->items_cap, sizeof *ch->items);
    ch->items[ch->nitems++] = (struct profile_item){due, member};
}

void pstore_count(struct pstore_round *r, const char *trigger, size_t len, const char *count)
{
    tally_add(r->counts, trigger, len, count, 1);
}

bool pstore_merge(struct pstore_round *r, struct pcache_profile *into, struct pcache_profile *from)
{
    if (from->link || into->link || from == into)
        return false; /* merged already, or the user is itself an alias: left alone */
    struct change *fc = change_of(r, from);
    json_t *before, *fields = pstore_edit(r, into, &before);
    struct change *ic = change_of(r, into);
    customer_merge(fields, from->fields, before);
    for (size_t i = 0; i < from->nseen; i++)
        pcache_see(into, from->seen + i * HASHID_DEDUP_LEN);
    ic->buyer |= last_order_ms(fields) >= 0; /* the buyer is the user now, with the revenue summed */
    ic->event = true;                        /* the user's keys live on from the merge */
    r->merges = grow(r->merges, r->nmerges, &r->merges_cap, sizeof *r->merges);
    r->merges[r->nmerges++] = (struct profile_merge){from->id, into->id, fc->expect};
    /* In memory as in Redis once committed: no fields, a link. */
    fc->gone = true;
    json_decref(from->fields);
    from->fields = json_object();
    from->link = util_xstrdup(into->id);
    pcache_resize(r->s->cache, from);
    return true;
}

void pstore_ack(struct pstore_round *r, const char *stream, const char *id)
{
    r->acks = grow(r->acks, r->nacks, &r->acks_cap, sizeof *r->acks);
    r->acks[r->nacks++] = (struct ack){stream, id};
}

bool pstore_apply(struct pstore_round *r, struct pcache_profile *p, const char *message_id,
                  const struct customer_update *u, bool order, int64_t now_ms, const char **moved)
{
    unsigned char h[HASHID_DEDUP_LEN];
    hashid_message(message_id, h);
    *moved = NULL;
    if (pcache_seen(p, h))
        return false;
    struct change *ch = change_of(r, p);
    own_fields(p);
    bool first_order = order && last_order_ms(p->fields) < 0;
    *moved = customer_apply(p->fields, u, now_ms, r->s->d.cfg->triggers_active_period_ms, ch->before);
    ch->order |= order;
    ch->event = true;
    ch->buyer |= order && (u->has_revenue || first_order);
    pcache_see(p, h);
    return true;
}

/* The change of the K-th customer (1-based) of R's commit: the changes
 * but those merged away, in order. */
static struct change *committed(struct pstore_round *r, long long k)
{
    for (size_t i = 0; i < r->nchanges; i++)
        if (!r->changes[i].gone && --k == 0)
            return &r->changes[i];
    return NULL;
}

/* The change of the anonymous id FROM that R merged away. */
static struct change *merged_away(struct pstore_round *r, const char *from)
{
    for (size_t i = 0; i < r->nchanges; i++)
        if (r->changes[i].gone && strcmp(r->changes[i].p->id, from) == 0)
            return &r->changes[i];
    return NULL;
}

static void on_commit(redisAsyncContext *ac, void *reply, void *priv)
{
    struct pstore_round *r = priv;
    redisReply *c = reply;
    (void)ac;
    if (!reply_failed(r, c, "commit") && c->type == REDIS_REPLY_ARRAY) {
        /* Redis's copy moved on (another process, a script, an erasure):
         * nothing was written; the batch is read again, the profiles too
         * (a merge's anonymous id: its position negative). */
        for (size_t i = 0; i < c->elements; i++) {
            long long k = c->element[i]->type == REDIS_REPLY_INTEGER ? c->element[i]->integer : 0;
            struct change *ch = k > 0                               ? committed(r, k)
                                : k < 0 && (size_t)-k <= r->nmerges ? merged_away(r, r->merges[-k - 1].from)
                                                                    : NULL;
            if (ch)
                pcache_drop(r->s->cache, ch->p, true);
        }
        char count[24];
        snprintf(count, sizeof count, "%zu", c->elements);
        log_info("a profile changed in Redis behind this process's copy: the batch is read again", "profiles", count);
        *r->failed = true;
    } else if (c && c->type == REDIS_REPLY_STRING) {
        log_warn("a round's goal and holdout counts were not kept: the tally list holds something else than nudged's "
                 "list (the round is written without them; delete or rename the key)",
                 "key", c->str);
    } else if (c && c->type != REDIS_REPLY_INTEGER && c->type != REDIS_REPLY_ERROR) {
        log_warn("redis: a script answered out of shape", "step", "commit");
        *r->failed = true;
    }
    r->step(r->data);
}

/* R's acks grouped by stream, in *OUT (the caller frees it and each ids
 * array); returns how many streams. */
static size_t group_acks(const struct pstore_round *r, struct profile_acks **out)
{
    struct profile_acks *g = util_xcalloc(r->nacks ? r->nacks : 1, sizeof *g);
    size_t n = 0;
    for (size_t i = 0; i < r->nacks; i++) {
        size_t k = 0;
        while (k < n && g[k].stream != r->acks[i].stream) /* a round's entries come from a few streams */
            k++;
        if (k == n) {
            g[n++] = (struct profile_acks){r->acks[i].stream, util_xcalloc(r->nacks, sizeof(char *)), 0};
        }
        g[k].ids[g[k].n++] = r->acks[i].id;
    }
    *out = g;
    return n;
}

size_t pstore_commit(struct pstore_round *r, const char *const *leases, size_t nleases, unsigned shard, int64_t now_ms,
                     bool delete_acked)
{
    struct pstore *s = r->s;
    if (r->nchanges == 0 && r->nacks == 0 && r->ndeliveries == 0 && r->nmerges == 0)
        return 0;
    int64_t ttl = s->d.cfg->triggers_profile_ttl_ms, period = profile_ttl_period(now_ms, ttl);
    struct profile_change *pc = util_xcalloc(r->nchanges ? r->nchanges : 1, sizeof *pc);
    size_t n = 0;
    for (size_t i = 0; i < r->nchanges; i++) {
        struct change *ch = &r->changes[i];
        struct pcache_profile *p = ch->p;
        if (ch->gone)
            continue;
        int64_t last = ch->order ? last_order_ms(p->fields) : -1;
        pc[n++] = (struct profile_change){p->id,
                                          ch->expect,
                                          ch->before,
                                          p->fields,
                                          p->seen + ch->seen_from * HASHID_DEDUP_LEN,
                                          p->nseen - ch->seen_from,
                                          ch->event && p->refreshed != period,
                                          ch->seen_from / 16 != p->nseen / 16,
                                          !ch->event && p->nseen > ch->seen_from,
                                          last >= 0 ? last + s->d.cfg->triggers_active_period_ms + 1 : 0,
                                          ch->buyer,
                                          ch->items,
                                          ch->nitems,
                                          false};
    }
    struct profile_acks *acks;
    size_t nacks = group_acks(r, &acks);
    struct profile_commit o = {s->d.keys->consumer, leases, nleases, now_ms, ttl,       r->deliveries, r->ndeliveries,
                               r->counts,           shard,  acks,    nacks,  r->merges, r->nmerges,    delete_acked};
    profile_commit_cmd(&s->call, s->d.scripts, s->d.keys, &o, pc, n);
    for (size_t i = 0, k = 0; i < r->nchanges; i++) {
        struct change *ch = &r->changes[i];
        struct pcache_profile *p = ch->p;
        /* The next round or batch builds on this before it is answered. */
        if (ch->event)
            p->refreshed = period;
        p->version = ch->gone ? 0 : ch->expect + (pc[k++].wrote ? 1 : 0);
        const char *key;
        json_t *old;
        json_object_foreach(ch->before, key, old)
        {
            pcache_account(s->cache, p, key, json_is_null(old) ? NULL : old);
        }
    }
    for (size_t i = 0; i < nacks; i++)
        free(acks[i].ids);
    free(acks);
    free(pc);
    return send_cmd(r, on_commit, r) ? 1 : 0;
}

void pstore_forget(struct pstore *s, const char *id)
{
    pcache_drop_id(s->cache, id);
}

void pstore_metrics(const struct pstore *s, struct buf *out)
{
    struct pcache_stats st = pcache_stats(s->cache);
    metrics_gauge(out, "nudged_profile_cache_hits_total", "Profiles found in memory ([redis] cache_size).", st.hits,
                  "counter");
    metrics_gauge(out, "nudged_profile_cache_misses_total", "Profiles read from Redis.", st.misses, "counter");
    metrics_gauge(out, "nudged_profile_cache_evictions_total", "Profiles let go of to stay within cache_size.",
                  st.evictions, "counter");
    metrics_gauge(out, "nudged_profile_cache_stale_total",
                  "Profiles changed in Redis behind this process's copy (a commit refused, the batch read again).",
                  st.stale, "counter");
    metrics_gauge(out, "nudged_profile_cache_profiles", "Profiles in memory.", st.profiles, "gauge");
    metrics_gauge(out, "nudged_profile_cache_bytes", "Estimated bytes of the profiles in memory.", st.bytes, "gauge");
}
