/* owner.c — registration and shard leases, a round at a time (see owner.h). */
#include "owner.h"
#include "cmd.h"
#include "log.h"
#include "shard.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct owner {
    struct owner_deps d;
    unsigned shards;
    bool *owned; /* per shard, as this process last heard from Redis */
    unsigned nowned, nprocesses;
    bool running, left;
    int64_t next_ms;    /* the next round (monotonic) */
    int64_t renewed_ms; /* when the leases were last renewed (sent) */
    int64_t sent_ms;    /* when the round in flight sent its leases call */
    struct cmd call;
};

struct owner *owner_new(const struct owner_deps *deps)
{
    struct owner *o = util_xcalloc(1, sizeof *o);
    o->d = *deps;
    o->shards = (unsigned)deps->cfg->redis_shards;
    o->owned = util_xcalloc(o->shards, sizeof *o->owned);
    cmd_init(&o->call);
    return o;
}

static void set_owned(struct owner *o, unsigned k, bool owned)
{
    if (o->owned[k] == owned)
        return;
    o->owned[k] = owned;
    o->nowned += owned ? 1 : (unsigned)-1;
    char shard[16];
    snprintf(shard, sizeof shard, "%u", k);
    log_debug(owned ? "shard taken" : "shard let go", "shard", shard);
    o->d.changed(o->d.data, k, owned);
}

/* Nothing was heard for longer than a lease: the leases may have run out
 * and been taken, so this process stops reading its shards until a round
 * gets them back. */
static void drop_all(struct owner *o)
{
    for (unsigned k = 0; k < o->shards; k++)
        set_owned(o, k, false);
}

static void on_leases(redisAsyncContext *ac, void *r, void *priv)
{
    struct owner *o = priv;
    redisReply *reply = r;
    (void)ac;
    o->running = false;
    if (o->left)
        return;
    if (reply == NULL || reply->type != REDIS_REPLY_STRING || reply->len != o->shards) {
        log_warn("redis: the shard leases could not be renewed", "error",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
        return;
    }
    o->renewed_ms = o->sent_ms;
    for (unsigned k = 0; k < o->shards; k++)
        set_owned(o, k, reply->str[k] == '1');
}

/* Builds the leases call: the share of the INDEX-th of N processes wanted,
 * every other lease this process holds let go. */
static void leases_cmd(struct owner *o, unsigned index, unsigned n)
{
    scripts_begin(&o->call, o->d.scripts, SCRIPT_LEASES, (int)o->shards);
    for (unsigned k = 0; k < o->shards; k++)
        cmd_adds(&o->call, o->d.keys->leases[k]);
    cmd_adds(&o->call, o->d.keys->consumer);
    cmd_addi(&o->call, o->d.cfg->redis_lease_ms);
    for (unsigned k = 0; k < o->shards; k++)
        cmd_adds(&o->call, shard_is_share(k, index, n) ? "1" : "0");
}

/* The leases call: this process's share among the live NAMES wanted. */
static void send_leases(struct owner *o, const redisReply *names)
{
    /* The index among the names in byte order (the reply is in the order
     * of expiry, which changes with every renewal): the names that sort
     * before this one. Not listed (not yet registered): no share. */
    unsigned index = 0;
    bool listed = false;
    for (size_t i = 0; i < names->elements; i++) {
        const redisReply *n = names->element[i];
        if (n->type != REDIS_REPLY_STRING)
            continue;
        int cmp = strcmp(n->str, o->d.keys->consumer);
        index += cmp < 0;
        listed |= cmp == 0;
    }
    o->nprocesses = (unsigned)names->elements;
    if (!listed)
        index = o->nprocesses;
    leases_cmd(o, index, o->nprocesses);
    if (cmd_send(&o->call, o->d.conn, on_leases, o) != 0)
        o->running = false;
}

static void on_registry(redisAsyncContext *ac, void *r, void *priv)
{
    struct owner *o = priv;
    redisReply *reply = r;
    (void)ac;
    if (o->left) {
        o->running = false;
        return;
    }
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        log_warn("redis: cannot register among the processes", "error",
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
        o->running = false;
        return;
    }
    send_leases(o, reply);
}

static void send_registry(struct owner *o, bool stay, redisCallbackFn *fn)
{
    scripts_begin(&o->call, o->d.scripts, SCRIPT_REGISTRY, 1);
    cmd_adds(&o->call, o->d.keys->processes);
    cmd_adds(&o->call, o->d.keys->consumer);
    cmd_addi(&o->call, o->d.cfg->redis_lease_ms);
    cmd_adds(&o->call, stay ? "1" : "0");
    if (cmd_send(&o->call, o->d.conn, fn, o) != 0)
        o->running = false;
}

void owner_tick(struct owner *o, int64_t now_ms)
{
    if (o->left)
        return;
    if (o->nowned > 0 && now_ms - o->renewed_ms > o->d.cfg->redis_lease_ms)
        drop_all(o);
    if (o->running || now_ms < o->next_ms || !rconn_up(o->d.conn))
        return;
    o->running = true;
    o->next_ms = now_ms + o->d.cfg->redis_lease_ms / 3;
    o->sent_ms = now_ms;
    send_registry(o, true, on_registry);
}

void owner_leave(struct owner *o)
{
    if (o->left)
        return;
    o->left = true;
    drop_all(o);
    if (!rconn_up(o->d.conn))
        return;
    send_registry(o, false, rconn_ignore);
    leases_cmd(o, 0, 0); /* a share of nothing: every lease held is let go */
    if (cmd_send(&o->call, o->d.conn, rconn_ignore, NULL) != 0)
        log_warn("cannot let go of the shard leases; they run out within a lease");
}

const bool *owner_shards(const struct owner *o)
{
    return o->owned;
}

unsigned owner_owned(const struct owner *o)
{
    return o->nowned;
}

unsigned owner_processes(const struct owner *o)
{
    return o->nprocesses;
}

void owner_free(struct owner *o)
{
    if (o == NULL)
        return;
    cmd_free(&o->call);
    free(o->owned);
    free(o);
}
