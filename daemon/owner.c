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
    bool *owned;      /* per shard, as this process last heard from Redis */
    bool *every;      /* every shard: each leases call names a run of them (shard_run) */
    char *answer;     /* the round's answers, a letter a shard, as they come */
    unsigned waiting; /* leases calls of the round not answered yet */
    bool answer_failed;
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
    o->every = util_xcalloc(o->shards, sizeof *o->every);
    for (unsigned k = 0; k < o->shards; k++)
        o->every[k] = true;
    o->answer = util_xcalloc(o->shards, 1);
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

/* A leases call of a round: the shards FROM to FROM + N. */
struct lease_run {
    struct owner *o;
    unsigned from, n;
};

/* A leases call answered; once the round's last is, what this process
 * holds is known: every answer, or none applied. */
static void on_leases(redisAsyncContext *ac, void *r, void *priv)
{
    struct lease_run *run = priv;
    struct owner *o = run->o;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type != REDIS_REPLY_STRING || reply->len != run->n) {
        if (!o->answer_failed && !o->left)
            log_warn("redis: the shard leases could not be renewed", "error",
                     reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
        o->answer_failed = true;
    } else {
        memcpy(o->answer + run->from, reply->str, run->n);
    }
    free(run);
    if (--o->waiting > 0)
        return;
    o->running = false;
    if (o->left || o->answer_failed)
        return;
    o->renewed_ms = o->sent_ms;
    for (unsigned k = 0; k < o->shards; k++)
        set_owned(o, k, o->answer[k] == '1');
}

/* Builds the leases call of shards FROM to END: the share of the INDEX-th
 * of N processes wanted, every other lease this process holds let go. */
static void leases_cmd(struct owner *o, unsigned index, unsigned n, unsigned from, unsigned end)
{
    scripts_begin(&o->call, o->d.scripts, SCRIPT_LEASES, (int)(end - from));
    for (unsigned k = from; k < end; k++)
        cmd_adds(&o->call, o->d.keys->leases[k]);
    cmd_adds(&o->call, o->d.keys->consumer);
    cmd_addi(&o->call, o->d.cfg->redis_lease_ms);
    for (unsigned k = from; k < end; k++)
        cmd_adds(&o->call, shard_is_share(k, index, n) ? "1" : "0");
}

/* The leases calls of a round (ANSWER: read by on_leases), or of a stop:
 * one on one Redis, one a shard on a Redis Cluster, whose scripts keep
 * to one slot. Returns how many were sent; *FAILED when one could not be. */
static unsigned send_lease_runs(struct owner *o, unsigned index, unsigned n, bool answer, bool *failed)
{
    unsigned sent = 0;
    for (unsigned k = 0, count, end; k < o->shards; k = end) {
        end = shard_run(o->every, o->shards, k, rconn_is_cluster(o->d.conn), &count);
        leases_cmd(o, index, n, k, end);
        struct lease_run *run = NULL;
        if (answer) {
            run = util_xcalloc(1, sizeof *run);
            *run = (struct lease_run){o, k, end - k};
        }
        if (cmd_send(&o->call, o->d.conn, answer ? on_leases : rconn_ignore, run) != 0) {
            free(run);
            *failed = true;
            break;
        }
        sent++;
    }
    return sent;
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
    bool failed = false;
    o->waiting = send_lease_runs(o, index, o->nprocesses, true, &failed);
    o->answer_failed = failed; /* the calls sent are answered; the round applies nothing */
    if (o->waiting == 0)
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
    bool failed = false;
    send_lease_runs(o, 0, 0, false, &failed); /* a share of nothing: every lease held is let go */
    if (failed)
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
    free(o->every);
    free(o->answer);
    free(o);
}
