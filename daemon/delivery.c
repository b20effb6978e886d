/* delivery.c — at-least-once delivery from the outboxes of the shards
 * this process owns (<prefix>actions:{k}): webhooks over HTTP, emails over
 * SMTP (both on the one curl multi).
 *
 * A delivery is acked only when its outcome is recorded in Redis: done
 * (ack), retry (into its shard's schedule + ack + delete, one script) or
 * dead (into <prefix>dead + ack + delete, one script). A crash before that
 * leaves the entry pending, and it is sent again with the same webhook-id
 * (by the shard's next owner, which takes its pending entries over).
 */
#include "delivery.h"
#include "clock.h"
#include "cmd.h"
#include "firing.h"
#include "jparse.h"
#include "keys.h"
#include "log.h"
#include "mail.h"
#include "outbox.h"
#include "rchain.h"
#include "shard.h"
#include "sreader.h"
#include "util.h"
#include "webhook.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct job {
    struct delivery *d;
    char *sid;             /* the stream entry id */
    unsigned shard;        /* the shard whose outbox it came from */
    struct jparse_flat f;  /* the delivery's fields; defaults left out (outbox_default) */
    TAILQ_ENTRY(job) link; /* in the delivery's jobs */
};

/* Deliveries that succeeded, acked together once per loop iteration
 * (one XACK an outbox). */
struct done_batch {
    struct delivery *d;
    struct job **jobs;
    size_t n;
    unsigned left; /* the XACKs not answered yet */
};

struct delivery {
    struct delivery_deps d;
    struct sreader *reader;
    struct done_batch *done;   /* filling, NULL when empty */
    struct event *flush_event; /* made active when the first success is queued */
    TAILQ_HEAD(, job) jobs;    /* being sent */
    size_t njobs;
    struct cmd call;
    unsigned due_out;              /* the moves of due items not answered yet */
    struct webhook_signer *signer; /* NULL when OpenSSL has no HMAC: signed webhooks fail and retry */
};

/* NAME's value, its default when it holds one, or NULL. */
static const char *opt_field(const struct job *j, const char *name)
{
    const char *v = jparse_flat_get(&j->f, name);
    return v ? v : outbox_default(jparse_flat_get(&j->f, "kind"), name);
}

static const char *field(const struct job *j, const char *name)
{
    const char *v = opt_field(j, name);
    return v ? v : "";
}

/* J's fields with their defaults as a jansson object, for the rare paths
 * (retry, dead) that write them back; NULL without memory. */
static json_t *job_json(const struct job *j)
{
    json_t *o = jparse_flat_to_json(&j->f);
    if (o)
        outbox_defaults(o);
    return o;
}

static void job_free(struct job *j)
{
    struct delivery *d = j->d;
    TAILQ_REMOVE(&d->jobs, j, link);
    d->njobs--;
    free(j->sid);
    jparse_flat_free(&j->f);
    free(j);
    sreader_kick(d->reader); /* room for one more */
}

static void on_recorded(redisAsyncContext *ac, void *r, void *priv)
{
    struct job *j = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("cannot record a delivery outcome; it will be sent again", "delivery", field(j, "d"), "error",
                 reply->str);
    job_free(j);
}

static void record(struct job *j)
{
    if (cmd_send(&j->d->call, j->d->d.conn, on_recorded, j) != 0) {
        log_warn("redis is down: the delivery stays pending and is sent again", "delivery", field(j, "d"));
        job_free(j);
    }
}

static void on_done_acked(redisAsyncContext *ac, void *r, void *priv)
{
    struct done_batch *b = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("cannot ack sent deliveries; they will be sent again", "error", reply->str);
    if (--b->left > 0)
        return;
    for (size_t i = 0; i < b->n; i++)
        job_free(b->jobs[i]);
    free(b->jobs);
    free(b);
}

/* Acks every delivery that succeeded since the last flush: one command an
 * outbox for the lot instead of a script per delivery. The acked entries
 * leave the stream with sreader_trim(): XDEL of each cost Redis a seek
 * into its stream node, more than the ack. */
static void flush_done(evutil_socket_t fd, short what, void *arg)
{
    struct delivery *d = arg;
    struct done_batch *b = d->done;
    (void)fd;
    (void)what;
    if (b == NULL)
        return;
    d->done = NULL;
    b->left = 1; /* held until every XACK is sent */
    bool *acked = util_xcalloc(b->n, sizeof *acked);
    struct cmd ack;
    cmd_init(&ack);
    for (size_t i = 0; i < b->n; i++) {
        if (acked[i])
            continue;
        unsigned shard = b->jobs[i]->shard;
        cmd_reset(&ack);
        cmd_adds(&ack, "XACK");
        cmd_adds(&ack, d->d.keys->actions[shard]);
        cmd_adds(&ack, d->d.keys->group);
        for (size_t k = i; k < b->n; k++)
            if (!acked[k] && b->jobs[k]->shard == shard) {
                acked[k] = true;
                cmd_adds(&ack, b->jobs[k]->sid);
            }
        if (cmd_send(&ack, d->d.conn, on_done_acked, b) != 0) {
            log_warn("redis is down: sent deliveries stay pending and are sent again");
            break;
        }
        b->left++;
    }
    cmd_free(&ack);
    free(acked);
    on_done_acked(NULL, NULL, b);
}

/* Queues J's ack with the other finished deliveries of this iteration. */
static void finish_acked(struct job *j)
{
    struct delivery *d = j->d;
    if (d->done == NULL) {
        d->done = util_xcalloc(1, sizeof *d->done);
        d->done->d = d;
        event_active(d->flush_event, EV_TIMEOUT, 0);
    }
    struct done_batch *b = d->done;
    b->jobs = util_xrealloc(b->jobs, (b->n + 1) * sizeof *b->jobs);
    b->jobs[b->n++] = j;
}

static void finish_done(struct job *j)
{
    struct stats *st = j->d->d.stats;
    long long ets = strtoll(field(j, "ets"), NULL, 10);
    st->deliveries_sent++;
    if (ets > 0)
        stats_observe(&st->event_to_delivery, (double)(clock_now_ms() - ets) / 1000.0);
    finish_acked(j);
}

static void finish_dead(struct job *j, long status, const char *error)
{
    struct delivery *d = j->d;
    const char *k;
    json_t *v;
    char st[24];
    snprintf(st, sizeof st, "%ld", status);
    /* The dead stream is outside the shards' slots: the copy first, then
     * the ack and the delete (rchain.h). */
    struct rchain *ch = rchain_new(d->d.conn, on_recorded, j);
    cmd_reset(&d->call);
    const char *head[] = {"XADD", d->d.keys->dead, "MAXLEN", "~", "100000", "*"};
    cmd_addsv(&d->call, head, sizeof head / sizeof *head);
    json_t *f = job_json(j); /* freed below: its strings are copied */
    json_object_foreach(f, k, v)
    {
        if (strcmp(k, "status") == 0 || strcmp(k, "error") == 0)
            continue;
        cmd_addscopy(&d->call, k);
        cmd_addscopy(&d->call, json_string_value(v) ? json_string_value(v) : "");
    }
    json_decref(f);
    cmd_adds(&d->call, "status");
    cmd_addscopy(&d->call, st);
    cmd_adds(&d->call, "error");
    cmd_addscopy(&d->call, error);
    rchain_add(ch, &d->call);
    const char *ack[] = {"XACK", d->d.keys->actions[j->shard], d->d.keys->group, j->sid};
    const char *del[] = {"XDEL", d->d.keys->actions[j->shard], j->sid};
    rchain_addv(ch, ack, sizeof ack / sizeof *ack);
    rchain_addv(ch, del, sizeof del / sizeof *del);
    d->d.stats->deliveries_dead++;
    log_warn("delivery dead", "delivery", field(j, "d"), "trigger", field(j, "trigger"), "status", st, "error", error);
    if (rchain_send(ch) != 0) {
        log_warn("redis is down: the delivery stays pending and is sent again", "delivery", field(j, "d"));
        job_free(j);
    }
}

static void finish_retry(struct job *j, long attempt, int64_t delay_ms, long status, const char *error)
{
    struct delivery *d = j->d;
    char st[24];
    snprintf(st, sizeof st, "%ld", status);
    json_t *f = job_json(j);
    json_object_set_new(f, "attempt", json_sprintf("%ld", attempt + 1));
    json_object_set_new(f, "last_status", json_string(st));
    json_object_set_new(f, "last_error", json_string(error));
    char *item = json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(f);
    scripts_begin(&d->call, d->d.scripts, SCRIPT_RETRY, 3);
    cmd_adds(&d->call, d->d.keys->actions[j->shard]);
    cmd_adds(&d->call, d->d.keys->schedule[j->shard]);
    keys_add_customer(&d->call, d->d.keys, field(j, "customer"), "s");
    cmd_adds(&d->call, d->d.keys->group);
    cmd_adds(&d->call, j->sid);
    cmd_addi(&d->call, clock_now_ms() + delay_ms);
    cmd_addscopy(&d->call, item ? item : "{}");
    cmd_addi(&d->call, d->d.cfg->triggers_profile_ttl_ms);
    free(item);
    d->d.stats->deliveries_retried++;
    log_info("delivery will be retried", "delivery", field(j, "d"), "status", st, "error", error);
    record(j);
}

/* The wait before attempt ATTEMPT+1: the schedule with +-20% jitter, or the
 * server's Retry-After for 429 and 503. */
static int64_t retry_delay(const struct config *cfg, long attempt, const struct http_result *res)
{
    if ((res->status == 429 || res->status == 503) && res->retry_after_s > 0)
        return (int64_t)res->retry_after_s * 1000;
    int64_t base = cfg->retry_ms[attempt - 1];
    return base * 8 / 10 + (base > 0 ? (int64_t)(random() % (base * 4 / 10 + 1)) : 0);
}

static void on_sent(const struct http_result *res, void *data)
{
    struct job *j = data;
    struct delivery *d = j->d;
    long attempt = strtol(field(j, "attempt"), NULL, 10);
    char err[300];
    if (res->code != CURLE_FAILED_INIT)
        stats_observe(&d->d.stats->delivery_seconds, res->seconds);
    if (res->code == CURLE_OK && res->status >= 200 && res->status < 300) {
        finish_done(j);
        return;
    }
    d->d.stats->deliveries_failed++;
    if (res->code != CURLE_OK)
        snprintf(err, sizeof err, "%s", res->error);
    else
        snprintf(err, sizeof err, "HTTP status %ld", res->status);
    if (res->status == 410)
        finish_dead(j, res->status, "410 Gone: the receiver asked to stop");
    else if (attempt >= 1 && (size_t)attempt <= d->d.cfg->retry_n)
        finish_retry(j, attempt, retry_delay(d->d.cfg, attempt, res), res->status, err);
    else
        finish_dead(j, res->status, err);
}

/* The SMTP outcome: 2xx sent; 5xx dead at once; 4xx and connection
 * failures retry on retry_schedule, then dead. */
static void on_mailed(const struct http_result *res, void *data)
{
    struct job *j = data;
    struct delivery *d = j->d;
    long attempt = strtol(field(j, "attempt"), NULL, 10);
    char err[300];
    stats_observe(&d->d.stats->delivery_seconds, res->seconds);
    if (res->code == CURLE_OK) {
        d->d.stats->emails_sent++;
        finish_done(j);
        return;
    }
    d->d.stats->deliveries_failed++;
    d->d.stats->emails_failed++;
    snprintf(err, sizeof err, "SMTP %ld: %s", res->status, res->error);
    if (res->status < 500 && attempt >= 1 && (size_t)attempt <= d->d.cfg->retry_n) {
        d->d.stats->emails_retried++; /* 4xx, or no reply at all (status 0) */
        finish_retry(j, attempt, retry_delay(d->d.cfg, attempt, res), res->status, err);
    } else {
        d->d.stats->emails_dead++;
        finish_dead(j, res->status, err);
    }
}

static long use_ssl(const char *tls)
{
    return strcmp(tls, "required") == 0 ? (long)CURLUSESSL_ALL
           : strcmp(tls, "none") == 0   ? (long)CURLUSESSL_NONE
                                        : (long)CURLUSESSL_TRY;
}

/* Builds J's message and starts sending it. */
static void mail_job(struct job *j)
{
    struct delivery *d = j->d;
    const struct config *cfg = d->d.cfg;
    const char *from = opt_field(j, "from") ? opt_field(j, "from") : cfg->smtp_from;
    struct mail_in in = {from,
                         opt_field(j, "to"),
                         opt_field(j, "reply_to"),
                         opt_field(j, "subject"),
                         opt_field(j, "text"),
                         opt_field(j, "html"),
                         field(j, "d"),
                         opt_field(j, "unsubscribe"),
                         clock_now_ms()};
    char err[300], addr[256], name[256];
    struct buf b;
    util_buf_init(&b, MAIL_MAX);
    if (mail_build(&in, &b, err, sizeof err) != 0 || mail_split(from, addr, sizeof addr, name, sizeof name) != 0) {
        util_buf_free(&b);
        d->d.stats->emails_dead++;
        finish_dead(j, 0, err); /* never reaches the SMTP server */
        return;
    }
    struct http_mail m = {cfg->smtp_url,
                          addr,
                          in.to,
                          b.data,
                          cfg->smtp_user,
                          cfg->smtp_password,
                          use_ssl(cfg->smtp_tls),
                          (long)cfg->delivery_timeout_ms};
    int rc = http_send_mail(d->d.http, &m, on_mailed, j);
    util_buf_free(&b);
    if (rc != 0) {
        struct http_result res = {0, CURLE_FAILED_INIT, "cannot start the SMTP transfer", -1, 0};
        on_mailed(&res, j);
    }
}

/* Consent is checked when the email is sent, after any wait: a customer
 * who unsubscribed meanwhile gets nothing (acked, counted as suppressed). */
static void on_consent(redisAsyncContext *ac, void *r, void *priv)
{
    struct job *j = priv;
    redisReply *reply = r;
    (void)ac;
    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        log_warn("cannot read the customer's consent; the email stays pending and is tried again", "delivery",
                 field(j, "d"), "error", reply ? reply->str : "connection lost");
        job_free(j);
    } else if (reply->type == REDIS_REPLY_STRING && strcmp(reply->str, "true") == 0) {
        j->d->d.stats->emails_suppressed++;
        log_info("email suppressed: the customer unsubscribed", "delivery", field(j, "d"), "trigger",
                 field(j, "trigger"));
        finish_acked(j);
    } else {
        mail_job(j);
    }
}

static void send_email(struct job *j)
{
    struct delivery *d = j->d;
    struct cmd hget;
    cmd_init(&hget);
    cmd_adds(&hget, "HGET");
    keys_add_customer(&hget, d->d.keys, field(j, "customer"), "p");
    cmd_adds(&hget, "t:unsubscribed");
    if (cmd_send(&hget, d->d.conn, on_consent, j) != 0) {
        log_warn("redis is down: the email stays pending and is sent later", "delivery", field(j, "d"));
        job_free(j);
    }
    cmd_free(&hget);
}

static void send_job(struct job *j)
{
    struct delivery *d = j->d;
    if (*field(j, "error")) { /* it could not be rendered when it fired */
        finish_dead(j, 0, field(j, "error"));
        return;
    }
    if (strcmp(field(j, "kind"), "email") == 0) {
        send_email(j);
        return;
    }
    const struct trigger *t = trigger_set_find(*d->d.triggers, field(j, "trigger"));
    if (t == NULL) {
        finish_dead(j, 0, "the trigger no longer exists, so its secret is unknown");
        return;
    }
    size_t keylen = 0;
    const unsigned char *key = trigger_webhook_secret(t, (size_t)strtoul(field(j, "action"), NULL, 10), &keylen);
    struct curl_slist *h = webhook_headers(d->signer, field(j, "d"), clock_now_ms() / 1000, key, keylen,
                                           field(j, "body"), field(j, "headers"));
    long timeout = strtol(field(j, "timeout"), NULL, 10);
    if (timeout <= 0)
        timeout = (long)d->d.cfg->delivery_timeout_ms;
    if (h == NULL ||
        http_request(d->d.http, field(j, "url"), field(j, "method"), h, field(j, "body"), timeout, on_sent, j) != 0) {
        struct http_result res = {0, CURLE_FAILED_INIT, "cannot start the request", -1, 0};
        on_sent(&res, j);
    }
}

static bool in_flight(const struct delivery *d, unsigned shard, const char *sid)
{
    const struct job *j;
    TAILQ_FOREACH(j, &d->jobs, link)
    {
        if (j->shard == shard && strcmp(j->sid, sid) == 0)
            return true;
    }
    return false;
}

/* An error in place of a delivery's fields (WHY, consumed): the delivery
 * goes to dead with it. */
static struct job *job_new(struct delivery *d, const redisReply *e, unsigned shard)
{
    struct job *j = util_xcalloc(1, sizeof *j);
    j->d = d;
    j->shard = shard;
    j->sid = util_xstrndup(e->element[0]->str, e->element[0]->len);
    outbox_read(&j->f, e->element[1]);
    TAILQ_INSERT_HEAD(&d->jobs, j, link);
    d->njobs++;
    return j;
}

static void on_batch(const struct sreader_entry *entries, size_t n, void *data)
{
    struct delivery *d = data;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = entries[i].entry;
        /* Only a read of the pending list (after a claim or a reconnect)
         * can hand back an entry still being sent; new entries (">") are
         * new, so the scan over the jobs is skipped for them. */
        if (entries[i].pending && in_flight(d, entries[i].index, e->element[0]->str))
            continue;
        send_job(job_new(d, e, entries[i].index));
    }
    sreader_done(d->reader, true);
}

static size_t room(void *data)
{
    struct delivery *d = data;
    size_t max = (size_t)d->d.cfg->delivery_max_inflight;
    return d->njobs >= max ? 0 : max - d->njobs;
}

static void on_due(redisAsyncContext *ac, void *r, void *priv)
{
    struct delivery *d = priv;
    redisReply *reply = r;
    (void)ac;
    d->due_out--;
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        d->d.stats->scheduled_moved += (uint64_t)reply->integer;
    else if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("moving due retries failed", "error", reply->str);
}

/* One call moves the due items of a run of owned shards from I on
 * (shard_run). Returns the end of the run. */
static unsigned send_due(struct delivery *d, const bool *owned, struct cmd *c, unsigned i)
{
    const struct keys *k = d->d.keys;
    unsigned n, end = shard_run(owned, k->shards, i, rconn_is_cluster(d->d.conn), &n);
    if (n == 0)
        return end;
    scripts_begin(c, d->d.scripts, SCRIPT_DUE, (int)(3 * n));
    for (unsigned j = i; j < end; j++)
        if (owned[j]) {
            cmd_adds(c, k->schedule[j]);
            cmd_adds(c, k->actions[j]);
            cmd_adds(c, k->timers[j]);
        }
    cmd_addi(c, clock_now_ms());
    cmd_addi(c, 500);
    if (cmd_send(c, d->d.conn, on_due, d) == 0)
        d->due_out++;
    return end;
}

void delivery_move_due(struct delivery *d, const bool *owned)
{
    if (d->due_out > 0 || !rconn_up(d->d.conn))
        return;
    struct cmd c;
    cmd_init(&c);
    for (unsigned i = 0; i < d->d.keys->shards;)
        i = send_due(d, owned, &c, i);
    cmd_free(&c);
}

struct delivery *delivery_new(const struct delivery_deps *deps)
{
    struct delivery *d = util_xcalloc(1, sizeof *d);
    TAILQ_INIT(&d->jobs);
    d->d = *deps;
    cmd_init(&d->call);
    d->flush_event = event_new(deps->base, -1, 0, flush_done, d);
    struct sreader_opts o = {(const char *const *)deps->keys->actions,
                             deps->keys->shards,
                             deps->keys->group,
                             deps->keys->consumer,
                             deps->cfg->redis_claim_idle_ms,
                             1000,
                             deps->keys->dead,
                             deps->scripts,
                             true};
    d->reader = sreader_new(deps->base, deps->reader, deps->conn, &o, room, on_batch, d);
    d->signer = webhook_signer_new();
    if (d->signer == NULL)
        log_error("OpenSSL has no HMAC-SHA256: webhooks with a secret cannot be signed and will be retried");
    return d;
}

struct sreader *delivery_reader(struct delivery *d)
{
    return d->reader;
}

size_t delivery_inflight(const struct delivery *d)
{
    return d->njobs;
}

void delivery_free(struct delivery *d)
{
    if (d == NULL)
        return;
    if (d->done) {
        free(d->done->jobs);
        free(d->done);
    }
    event_free(d->flush_event);
    webhook_signer_free(d->signer);
    while (!TAILQ_EMPTY(&d->jobs)) {
        struct job *j = TAILQ_FIRST(&d->jobs);
        TAILQ_REMOVE(&d->jobs, j, link);
        free(j->sid);
        jparse_flat_free(&j->f);
        free(j);
    }
    sreader_free(d->reader);
    cmd_free(&d->call);
    free(d);
}
