/* daemon.c — the context that travels through libevent, hiredis and curl,
 * and the lifecycle around the one loop: start, ready, reload, drain, stop.
 *
 * Five Redis connections: one for commands, and one for each blocking
 * XREADGROUP (the shards' events, timers, actions, the inbox), because a
 * blocked read holds its connection; a sixth for the collector's writes
 * when it listens, so a client's answer never waits behind the consumer's
 * scripts. The shards' events and the inbox are read only while this
 * process owns them (owner.h).
 */
#include "daemon.h"
#include "admin.h"
#include "backlog.h"
#include "clock.h"
#include "collector.h"
#include "consumer.h"
#include "delivery.h"
#include "http.h"
#include "inbox.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "owner.h"
#include "profile.h"
#include "ranks.h"
#include "rconn.h"
#include "report.h"
#include "scripts.h"
#include "shard.h"
#include "stats.h"
#include "tally.h"
#include "tdir.h"
#include "util.h"
#include "writekeys.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
#define NREADERS 4 /* events, timers, actions, inbox */

struct daemon {
    struct event_base *base;
    struct config *cfg;
    struct keys keys;
    struct trigger_set *triggers;
    struct stats stats;
    uint64_t events_lag, events_pending; /* from XINFO GROUPS, every 5 s */
    struct tz_cache *tz;
    struct scripts scripts;
    struct rconn *conn, *rd[NREADERS]; /* rd[i] is reader(d, i)'s connection */
    struct rconn *ingest;              /* the collector's, NULL when it is off */
    struct collector *collector;
    struct consumer *consumer;
    struct delivery *delivery;
    struct inbox *inbox;
    struct owner *owner;           /* NULL in a collector-only process */
    struct tally_folder **folders; /* one a shard */
    struct http *http;
    struct admin *admin;
    struct event *sig_term, *sig_int, *sig_hup, *tick, *shutdown_timer;
    bool setup_ok, setup_running, ready, stopping;
    int setup_failures;
    int exit_code;                           /* what daemon_run returns once the loop ends */
    char setup_error[256];                   /* the last setup step's error, for the log */
    int64_t setup_backoff_ms, setup_next_ms; /* a failed setup is tried again later and later */
    int64_t last_claim_ms, last_prune_ms, last_trim_ms, last_watchdog_ms, last_status_ms, last_backlog_ms;
    int64_t watchdog_ms, start_time_s;
};

#define CONSUMER_PRUNE_IDLE_MS (24LL * 3600 * 1000)
#define PRUNE_EVERY_MS (3600LL * 1000)
#define TRIM_EVERY_MS 1000
#define SETUP_BACKOFF_MIN_MS 500
#define SETUP_BACKOFF_MAX_MS 30000
#define STATUS_EVERY_MS 5000
/* The collector's 429 follows the backlog this closely: one XINFO GROUPS
 * a period, never one a request. */
#define BACKLOG_EVERY_MS 250

/* The stream readers, for what the daemon does to all alike. */
static struct sreader *reader(struct daemon *d, int i)
{
    if (i < CONSUMER_SOURCES)
        return consumer_reader(d->consumer, i);
    return i == CONSUMER_SOURCES ? delivery_reader(d->delivery) : inbox_reader(d->inbox);
}

/* Shard K became this process's, or stopped being: its events, timers and
 * outbox are read (their pending entries of any consumer taken over
 * first), its schedule's due items moved and its tallies folded, or no
 * longer; shard 0's owner also moves the inbox. */
static void on_shard(void *data, unsigned k, bool owned)
{
    struct daemon *d = data;
    for (int i = 0; i < CONSUMER_SOURCES; i++)
        sreader_set_active(consumer_reader(d->consumer, i), k, owned, true);
    /* The outbox is not taken over: a delivery being sent by the shard's
     * last owner (which let go of it alive) would be sent twice. One whose
     * sender died is claimed once idle for claim_idle. */
    sreader_set_active(delivery_reader(d->delivery), k, owned, false);
    tally_folder_own(d->folders[k], owned);
    if (k == 0)
        sreader_set_active(inbox_reader(d->inbox), 0, owned, true);
}

/* A collector-only process (http.collector_only) reads no stream: it
 * takes events in, and other processes do the rest. */
static void resume(struct daemon *d)
{
    if (!d->setup_ok || d->stopping || d->cfg->http_collector_only)
        return;
    for (int i = 0; i < NREADERS; i++)
        sreader_kick(reader(d, i));
}

static void on_scripts_loaded(void *data, bool ok)
{
    struct daemon *d = data;
    d->setup_running = false;
    if (!ok || d->setup_failures > 0) {
        char n[24];
        d->setup_backoff_ms = d->setup_backoff_ms ? d->setup_backoff_ms * 2 : SETUP_BACKOFF_MIN_MS;
        if (d->setup_backoff_ms > SETUP_BACKOFF_MAX_MS)
            d->setup_backoff_ms = SETUP_BACKOFF_MAX_MS;
        d->setup_next_ms = clock_mono_ms() + d->setup_backoff_ms;
        snprintf(n, sizeof n, "%lld", (long long)d->setup_backoff_ms);
        log_error("redis setup failed; retrying", "in_ms", n, "error", d->setup_error);
        return;
    }
    d->setup_ok = true;
    d->setup_backoff_ms = 0;
    for (int i = 0; d->consumer && i < NREADERS; i++)
        sreader_reset(reader(d, i));
    if (!d->ready) {
        d->ready = true;
        char n[24];
        snprintf(n, sizeof n, "%zu", trigger_set_count(d->triggers));
        log_info("nudged ready", "triggers", n, "consumer", d->cfg->redis_consumer, "stream", d->keys.events);
        notify_send("READY=1\nSTATUS=running");
    }
    resume(d);
}

/* XGROUP CREATE's answer: BUSYGROUP is success; another error is noted,
 * and the XINFO GROUPS behind it decides (Redis at maxmemory refuses the
 * create with OOM even when the group already exists, which is enough). */
static void on_group(redisAsyncContext *ac, void *r, void *priv)
{
    struct daemon *d = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0)
        snprintf(d->setup_error, sizeof d->setup_error, "%s", reply->str);
}

static void on_groups_exist(redisAsyncContext *ac, void *r, void *priv)
{
    struct daemon *d = priv;
    redisReply *reply = r;
    bool found = false;
    (void)ac;
    for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *g = reply->element[i];
        for (size_t k = 0; g->type == REDIS_REPLY_ARRAY && k + 1 < g->elements; k += 2)
            found |= g->element[k]->type == REDIS_REPLY_STRING && strcmp(g->element[k]->str, "name") == 0 &&
                     g->element[k + 1]->type == REDIS_REPLY_STRING &&
                     strcmp(g->element[k + 1]->str, d->keys.group) == 0;
    }
    if (!found) {
        d->setup_failures++;
        if (d->setup_error[0] == '\0')
            snprintf(d->setup_error, sizeof d->setup_error, "the consumer group is missing: %s",
                     reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer");
    }
}

/* Creates the groups (or finds them) and loads the scripts; the end of
 * the setup is on_scripts_loaded. */
static void setup_groups(struct daemon *d)
{
    for (unsigned i = 0; i < d->keys.nstreams + 2 * d->keys.shards; i++) {
        unsigned k = i - d->keys.nstreams; /* past the events streams: the timers, then the outboxes */
        const char *stream = i < d->keys.nstreams ? d->keys.streams[i]
                             : k < d->keys.shards ? d->keys.timers[k]
                                                  : d->keys.actions[k - d->keys.shards];
        if (rconn_sendf(d->conn, on_group, d, "XGROUP CREATE %s %s 0 MKSTREAM", stream, d->keys.group) != 0 ||
            rconn_sendf(d->conn, on_groups_exist, d, "XINFO GROUPS %s", stream) != 0)
            d->setup_failures++;
    }
    if (scripts_load(&d->scripts, d->conn, on_scripts_loaded, d) != 0)
        d->setup_running = false;
}

/* What the stored layout (HMGET version shards; WRONGTYPE: an earlier
 * layout's string) says against this process: NULL when it is the same,
 * else why not in WHY. */
static const char *layout_mismatch(const struct daemon *d, const redisReply *reply, char *why, size_t len)
{
    bool older = reply->type == REDIS_REPLY_ERROR;
    return keys_layout_mismatch(d->cfg, older ? NULL : reply->element[0]->str, older ? NULL : reply->element[1]->str,
                                why, len);
}

/* The stored layout: the one this process writes (HSETNX made it so on a
 * Redis without nudged's data), or another, which stops the start before
 * anything is written: nothing is migrated, and running on data of
 * another layout, or split in another number of shards, would corrupt it. */
static void on_layout(redisAsyncContext *ac, void *r, void *priv)
{
    struct daemon *d = priv;
    redisReply *reply = r;
    char why[400];
    (void)ac;
    bool wrongtype = reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "WRONGTYPE", 9) == 0;
    if (!wrongtype &&
        (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
         reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING)) {
        d->setup_failures++;
        snprintf(d->setup_error, sizeof d->setup_error, "cannot read or record the layout in %s: %s", d->keys.layout,
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no value");
        on_scripts_loaded(d, false);
    } else if (layout_mismatch(d, reply, why, sizeof why)) {
        log_error(why, "key", d->keys.layout);
        d->setup_running = false;
        d->exit_code = 3;
        d->stopping = true;
        event_base_loopbreak(d->base);
    } else {
        setup_groups(d);
    }
}

/* Checks the layout first (on_layout goes on from there). A layout of an
 * earlier version is another type (a string): HSETNX fails on it and
 * HMGET answers WRONGTYPE, which says the same. */
static void setup_redis(struct daemon *d)
{
    if (d->setup_running || !rconn_up(d->conn) || clock_mono_ms() < d->setup_next_ms)
        return;
    d->setup_running = true;
    d->setup_failures = 0;
    d->setup_error[0] = '\0';
    if (rconn_sendf(d->conn, rconn_ignore, NULL, "HSETNX %s version %s", d->keys.layout, KEYS_LAYOUT_VERSION) != 0 ||
        rconn_sendf(d->conn, rconn_ignore, NULL, "HSETNX %s shards %lld", d->keys.layout,
                    (long long)d->cfg->redis_shards) != 0 ||
        rconn_sendf(d->conn, on_layout, d, "HMGET %s version shards", d->keys.layout) != 0)
        d->setup_running = false;
}

static void on_conn_state(struct rconn *rc, bool up, void *data)
{
    struct daemon *d = data;
    if (rc == d->conn) {
        d->setup_ok = false;
        d->setup_next_ms = 0; /* a new connection is tried at once */
        if (up)
            setup_redis(d);
        return;
    }
    for (int i = 0; up && d->consumer && i < NREADERS; i++)
        if (rc == d->rd[i]) { /* a reader is back: drain its pending list first */
            sreader_reset(reader(d, i));
            resume(d);
        }
}

/* FN (a count of a connection) summed over every connection to Redis. */
static uint64_t over_conns(const struct daemon *d, unsigned long (*fn)(const struct rconn *))
{
    uint64_t n = fn(d->conn) + (d->ingest ? fn(d->ingest) : 0);
    for (int i = 0; i < NREADERS; i++)
        n += d->rd[i] ? fn(d->rd[i]) : 0;
    return n;
}

static uint64_t reconnects(const struct daemon *d)
{
    return over_conns(d, rconn_reconnects);
}

static void send_status(struct daemon *d)
{
    char status[256];
    snprintf(status, sizeof status,
             "STATUS=events %" PRIu64 ", rejected %" PRIu64 ", fired %" PRIu64 ", sent %" PRIu64 ", retried %" PRIu64
             ", dead %" PRIu64 ", redis reconnects %lu",
             d->stats.events_consumed, d->stats.events_rejected, d->stats.triggers_fired, d->stats.deliveries_sent,
             d->stats.deliveries_retried, d->stats.deliveries_dead, (unsigned long)reconnects(d));
    notify_send(status);
}

/* The backlog's sums came (backlog.h): the collector's 429 and the
 * metrics follow them. */
static void on_backlog(uint64_t lag, uint64_t pending, void *data)
{
    struct daemon *d = data;
    d->events_lag = lag;
    d->events_pending = pending;
    if (d->collector)
        collector_set_backlog(d->collector, lag + pending);
}

static void ask_backlog(struct daemon *d)
{
    backlog_ask(d->conn, (const char *const *)d->keys.streams, d->keys.nstreams, d->keys.group, on_backlog, d);
}

/* Deliveries in flight (none in a collector-only process, which has no
 * stream workers). */
static size_t inflight(const struct daemon *d)
{
    return d->delivery ? delivery_inflight(d->delivery) : 0;
}

static bool drained(const struct daemon *d)
{
    return !d->consumer || (!consumer_busy(d->consumer) && !inbox_busy(d->inbox) && inflight(d) == 0);
}

static void trim_buyers(struct daemon *d)
{
    struct cmd c;
    cmd_init(&c);
    const bool *owned = owner_shards(d->owner);
    for (unsigned k = 0, n, end; k < d->keys.shards; k = end) {
        end = shard_run(owned, d->keys.shards, k, rconn_is_cluster(d->conn), &n);
        if (n == 0)
            continue;
        ranks_trim_cmd(&c, &d->scripts, &d->keys, owned, k, end, n);
        if (cmd_send(&c, d->conn, rconn_ignore, NULL) != 0) { /* best effort: the next tick tries again */
            log_debug("cannot trim the buyers now: no connection");
            break;
        }
    }
    cmd_free(&c);
}

/* The one maintenance timer (as redis's serverCron): due retries, the
 * trim of sent deliveries, claims, watchdog, status, and the end of a
 * drain. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    int64_t now = clock_mono_ms();
    if (d->stopping) {
        if (drained(d))
            event_base_loopbreak(d->base);
        return;
    }
    if (!d->setup_ok)
        setup_redis(d);
    if (d->setup_ok && !d->cfg->http_collector_only) {
        owner_tick(d->owner, now);
        delivery_move_due(d->delivery, owner_shards(d->owner));
        if (now - d->last_trim_ms >= TRIM_EVERY_MS) {
            sreader_trim(delivery_reader(d->delivery), 0, clock_now_ms());
            sreader_trim(consumer_reader(d->consumer, CONSUMER_EVENTS), d->cfg->redis_events_retention_ms,
                         clock_now_ms());
            sreader_trim(inbox_reader(d->inbox), d->cfg->redis_events_retention_ms, clock_now_ms());
            trim_buyers(d);
            for (unsigned k = 0; k < d->keys.shards; k++)
                tally_folder_tick(d->folders[k], now);
            d->last_trim_ms = now;
        }
        bool claim = now - d->last_claim_ms >= d->cfg->redis_claim_idle_ms / 2;
        bool prune = now - d->last_prune_ms >= PRUNE_EVERY_MS;
        for (int i = 0; i < NREADERS; i++) {
            if (claim)
                sreader_claim(reader(d, i));
            if (prune)
                sreader_prune(reader(d, i), CONSUMER_PRUNE_IDLE_MS);
        }
        if (claim)
            d->last_claim_ms = now;
        if (prune)
            d->last_prune_ms = now;
        resume(d);
    }
    if (d->watchdog_ms && now - d->last_watchdog_ms >= d->watchdog_ms / 2) {
        d->last_watchdog_ms = now;
        notify_send("WATCHDOG=1");
    }
    if (now - d->last_status_ms >= STATUS_EVERY_MS) {
        d->last_status_ms = now;
        send_status(d);
    }
    if (now - d->last_backlog_ms >= (d->collector ? BACKLOG_EVERY_MS : STATUS_EVERY_MS)) {
        d->last_backlog_ms = now;
        if (d->setup_ok)
            ask_backlog(d);
    }
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd;
    (void)what;
    char n[24];
    snprintf(n, sizeof n, "%zu", inflight(d));
    log_warn("shutdown_timeout reached; unfinished deliveries stay pending and are sent again later", "inflight", n);
    event_base_loopbreak(d->base);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("stopping: draining in-flight work", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    notify_send("STOPPING=1");
    for (int i = 0; d->consumer && i < NREADERS; i++)
        sreader_stop(reader(d, i));
    if (d->owner) /* the others take the shards at their next round */
        owner_leave(d->owner);
    struct timeval tv = {d->cfg->delivery_shutdown_timeout_ms / 1000,
                         (d->cfg->delivery_shutdown_timeout_ms % 1000) * 1000};
    evtimer_add(d->shutdown_timer, &tv);
}

/* Loads the trigger directory again and swaps the set in, or keeps the old
 * set whole; every problem goes to ERRS and the log. Returns 0 or -1. */
static int reload(void *data, struct errlist *errs)
{
    struct daemon *d = data;
    char buf[96];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof buf, "RELOADING=1\nMONOTONIC_USEC=%lld", (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
    notify_send(buf);
    struct trigger_set *set = tdir_load(d->cfg->triggers_dir, errs);
    struct writekeys *keys = NULL;
    if (set && trigger_set_check_timeouts(set, d->cfg->redis_claim_idle_ms, errs) > 0) {
        trigger_set_free(set);
        set = NULL;
    }
    if (set && d->collector && (keys = writekeys_load(d->cfg->http_write_keys_file, errs)) == NULL) {
        trigger_set_free(set);
        set = NULL;
    }
    if (set == NULL) {
        for (size_t i = 0; i < errs->n; i++)
            log_error("reload: trigger error", "error", errs->lines[i]);
        log_error("reload failed: keeping the triggers and write keys already loaded", "dir", d->cfg->triggers_dir);
        d->stats.reload_failures++;
    } else {
        /* A batch in progress holds its own reference to the old set. */
        trigger_set_free(d->triggers);
        d->triggers = set;
        if (keys)
            collector_set_keys(d->collector, keys);
        d->stats.reloads++;
        snprintf(buf, sizeof buf, "%zu", trigger_set_count(set));
        log_info("triggers reloaded", "triggers", buf);
    }
    notify_send("READY=1");
    return set ? 0 : -1;
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
    struct errlist errs = {0};
    (void)sig;
    (void)what;
    reload(arg, &errs); /* a failure is logged there, and the old set stays */
    errlist_clear(&errs);
}

/* How long a refused write keeps /healthz at 503: a batch is retried
 * well within it, and one that goes through clears it at once. */
#define REFUSED_UNHEALTHY_MS 10000

static bool healthy(void *data, const char **reason)
{
    struct daemon *d = data;
    bool refused = d->stats.redis_refused_ms && clock_now_ms() - d->stats.redis_refused_ms < REFUSED_UNHEALTHY_MS;
    if (d->stopping)
        *reason = "stopping";
    else if (!rconn_up(d->conn))
        *reason = "redis is not connected";
    else if (!d->setup_ok)
        *reason = "redis setup (groups, scripts) not done";
    else if (refused)
        *reason = "Redis refuses writes: out of memory; events wait";
    return !d->stopping && rconn_up(d->conn) && d->setup_ok && !refused;
}

static void metrics(void *data, struct buf *out)
{
    struct daemon *d = data;
    struct metrics_gauges g = {reconnects(d),
                               over_conns(d, rconn_redirects),
                               over_conns(d, rconn_map_reads),
                               trigger_set_count(d->triggers),
                               inflight(d),
                               d->events_lag,
                               d->events_pending,
                               rconn_up(d->conn),
                               (uint64_t)d->cfg->redis_shards,
                               d->owner ? owner_owned(d->owner) : 0,
                               d->owner ? owner_processes(d->owner) : 0,
                               d->start_time_s};
    metrics_format(&d->stats, &g, out);
    if (d->consumer)
        consumer_metrics(d->consumer, out);
    if (d->collector)
        collector_metrics(d->collector, out);
    tally_folder_metrics(d->folders, d->folders ? d->keys.shards : 0, out);
}

struct customer_req {
    struct daemon *d;
    struct admin_pending *p;
    char *id;
    bool erase;
};

static void on_customer_reply(redisAsyncContext *ac, void *r, void *priv)
{
    struct customer_req *q = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        admin_reply(q->p, 503,
                    json_pack("{s:s}", "error",
                              reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "redis connection lost"));
    } else if (q->erase && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        long long keys = reply->element[0]->integer;
        log_info("customer erased", "customer", q->id);
        if (q->d->consumer)
            consumer_forget(q->d->consumer, q->id); /* another process's copy is refused at its next commit */
        admin_reply(q->p, keys ? 200 : 404,
                    keys ? json_pack("{s:s, s:I, s:I, s:I}", "erased", q->id, "keys", keys, "scheduled",
                                     reply->element[1]->integer, "anonymous_ids", reply->element[2]->integer)
                         : json_pack("{s:s}", "error", "no such customer"));
    } else if (!q->erase && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
        json_t *fields = profile_fields(reply), *state;
        json_t *view = customer_view(q->id, fields, clock_now_ms(), q->d->cfg->triggers_active_period_ms, &state);
        admin_reply(q->p, 200, view);
        json_decref(fields);
        json_decref(state);
    } else {
        admin_reply(q->p, 404, json_pack("{s:s}", "error", "no such customer"));
    }
    free(q->id);
    free(q);
}

/* GET or DELETE /v1/customers/ID: the profile as triggers see it, or erase. */
static void customer(void *data, bool erase, const char *id, struct admin_pending *p)
{
    struct daemon *d = data;
    struct cmd c;
    cmd_init(&c);
    if (erase) {
        profile_forget_cmd(&c, &d->scripts, &d->keys, id);
    } else {
        cmd_adds(&c, "HGETALL");
        keys_add_customer(&c, &d->keys, id, "p");
    }
    struct customer_req *q = util_xcalloc(1, sizeof *q);
    *q = (struct customer_req){d, p, util_xstrdup(id), erase};
    if (!d->setup_ok || cmd_send(&c, d->conn, on_customer_reply, q) != 0)
        on_customer_reply(NULL, NULL, q);
    cmd_free(&c);
}

static void on_counts(void *data, json_t *counts, const char *error, const struct trigger_set *set)
{
    struct admin_pending *p = data;
    if (counts)
        admin_reply(p, 200, report_json(set, counts, NULL, 0));
    else
        admin_reply(p, 503, json_pack("{s:s}", "error", error));
}

/* GET /v1/triggers: the report, from the measured triggers' counts. */
static void triggers(void *data, struct admin_pending *p)
{
    struct daemon *d = data;
    report_send(d->setup_ok ? d->conn : NULL, &d->keys, d->triggers, on_counts, p);
}

/* The admin listener, when admin_listen is set; -1 when it cannot start. */
static int start_admin(struct daemon *d)
{
    const struct config *c = d->cfg;
    static const struct admin_ops ops = {reload, healthy, metrics, customer, triggers};
    if (c->http_admin_listen[0] == '\0')
        return 0;
    d->admin = admin_new(d->base, c->http_admin_listen, c->admin_token, &ops, d);
    if (d->admin == NULL) {
        log_error("cannot listen on http.admin_listen", "listen", c->http_admin_listen);
        return -1;
    }
    return 0;
}

/* The collector, when ingest_listen and write_keys_file are set (the
 * config loaded the keys); -1 when it cannot listen. */
static int start_collector(struct daemon *d)
{
    struct config *c = d->cfg;
    if (c->write_keys == NULL) {
        if (*c->http_ingest_listen)
            log_info("collector off: http.write_keys_file is not set");
        return 0;
    }
    d->ingest =
        rconn_open(d->base, c->redis_url, c->redis_cluster_nodes, c->redis_password, "collector", on_conn_state, d);
    struct collector_config cc = {c->http_ingest_listen, (const char *const *)d->keys.streams + 1,
                                  (unsigned)c->redis_shards, c->http_cors_origins, (uint64_t)c->http_max_backlog};
    d->collector = d->ingest ? collector_new(d->base, &cc, d->ingest, c->write_keys) : NULL;
    if (d->collector == NULL) {
        log_error("cannot start the collector on http.ingest_listen", "listen", c->http_ingest_listen);
        return -1;
    }
    char n[24];
    snprintf(n, sizeof n, "%zu", writekeys_count(c->write_keys));
    c->write_keys = NULL; /* the collector's now */
    log_info("collector listening", "listen", c->http_ingest_listen, "streams", keys_shard_stream(&d->keys, 0),
             "write_keys", n);
    return 0;
}

/* The stream workers of a process that is not collector-only: a reader
 * connection each (a blocked read holds its connection), the consumer,
 * delivery, the inbox mover, the shards' owner and tally folders. False
 * when a connection cannot be made. */
static bool start_workers(struct daemon *d)
{
    const struct config *c = d->cfg;
    const char *names[NREADERS] = {"events-reader", "timers-reader", "actions-reader", "inbox-reader"};
    for (int i = 0; i < NREADERS; i++)
        if ((d->rd[i] = rconn_open(d->base, c->redis_url, c->redis_cluster_nodes, c->redis_password, names[i],
                                   on_conn_state, d)) == NULL)
            return false;
    struct consumer_deps cd = {d->base, {d->rd[0], d->rd[1]}, d->conn,   &d->scripts, &d->keys,
                               c,       &d->triggers,         &d->stats, d->tz};
    struct delivery_deps dd = {d->base, d->rd[2], d->conn, &d->scripts, &d->keys, c, &d->triggers, &d->stats, d->http};
    struct inbox_deps id = {d->base, d->rd[3], d->conn, &d->scripts, &d->keys, c, &d->stats};
    struct owner_deps od = {d->conn, &d->scripts, &d->keys, c, on_shard, d};
    d->consumer = consumer_new(&cd);
    d->delivery = delivery_new(&dd);
    d->inbox = inbox_new(&id);
    /* No shard is read before a lease says it is this process's. */
    for (unsigned k = 0; k < (unsigned)c->redis_shards; k++) {
        for (int i = 0; i < CONSUMER_SOURCES; i++)
            sreader_set_active(consumer_reader(d->consumer, i), k, false, false);
        sreader_set_active(delivery_reader(d->delivery), k, false, false);
    }
    sreader_set_active(inbox_reader(d->inbox), 0, false, false);
    d->owner = owner_new(&od);
    d->folders = util_xcalloc(d->keys.shards, sizeof *d->folders);
    for (unsigned k = 0; k < d->keys.shards; k++)
        d->folders[k] = tally_folder_new(d->conn, &d->scripts, &d->keys, k);
    return true;
}

static int start(struct daemon *d)
{
    const struct config *c = d->cfg;
    d->conn = rconn_open(d->base, c->redis_url, c->redis_cluster_nodes, c->redis_password, "command", on_conn_state, d);
    d->http = http_new(d->base, (long)c->delivery_max_inflight, (long)c->delivery_per_host);
    d->tz = tz_cache_new(NULL);
    stats_init(&d->stats);
    if (!d->conn || !d->http || (!c->http_collector_only && !start_workers(d))) {
        log_error("cannot start: bad redis.url or curl failed", "url", c->redis_url);
        return -1;
    }
    d->sig_term = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_stop_signal, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, on_reload_signal, d);
    d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    d->shutdown_timer = evtimer_new(d->base, on_shutdown_timeout, d);
    struct timeval tick = {0, TICK_MS * 1000};
    event_add(d->sig_term, NULL);
    event_add(d->sig_int, NULL);
    event_add(d->sig_hup, NULL);
    event_add(d->tick, &tick);
    d->watchdog_ms = notify_watchdog_ms();
    return start_admin(d) == 0 && start_collector(d) == 0 ? 0 : -1;
}

static void teardown(struct daemon *d)
{
    /* Connections first: their pending callbacks run now, while the
     * consumer and delivery they call back into still exist. */
    for (int i = 0; i < NREADERS; i++)
        if (d->consumer && d->delivery && d->inbox)
            sreader_stop(reader(d, i));
    rconn_free(d->conn);
    for (int i = 0; i < NREADERS; i++)
        rconn_free(d->rd[i]);
    rconn_free(d->ingest);
    collector_free(d->collector);
    http_free(d->http);
    admin_free(d->admin);
    consumer_free(d->consumer);
    inbox_free(d->inbox);
    owner_free(d->owner);
    for (unsigned k = 0; d->folders && k < d->keys.shards; k++)
        tally_folder_free(d->folders[k]);
    free(d->folders);
    tz_cache_free(d->tz);
    stats_clear(&d->stats);
    delivery_free(d->delivery);
    struct event *evs[] = {d->sig_term, d->sig_int, d->sig_hup, d->tick, d->shutdown_timer};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    trigger_set_free(d->triggers);
    keys_free(&d->keys);
    event_base_free(d->base);
}

/* The soft RLIMIT_NOFILE up to the hard one: every client connection,
 * webhook and Redis connection is a descriptor, and the soft default (1024)
 * runs out long before the machine does. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn("cannot raise the open files limit to the hard limit");
    }
}

int daemon_run(struct config *cfg, struct trigger_set *triggers)
{
    struct daemon d = {0};
    d.cfg = cfg;
    d.triggers = triggers;
    d.start_time_s = clock_now_ms() / 1000;
    keys_init(&d.keys, cfg);
    signal(SIGPIPE, SIG_IGN); /* hiredis writes with plain write() */
    event_set_log_callback(log_libevent);
    raise_fd_limit();
    srandom((unsigned)(clock_now_ms() ^ getpid()));
    d.base = event_base_new();
    if (d.base == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        log_error("cannot start the event loop or curl");
        return 3;
    }
    int rc = 0;
    if (start(&d) != 0) {
        rc = 3;
    } else {
        event_base_dispatch(d.base);
        rc = d.exit_code;
    }
    teardown(&d);
    curl_global_cleanup();
    if (rc == 0)
        log_info("nudged stopped");
    return rc;
}
