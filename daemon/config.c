/* config.c — the table of every configuration key, and its loader.
 *
 * One table (as pgbouncer's bouncer_params[]) gives each key its section,
 * type, target, default and bounds; the INI parser, the environment overrides
 * and the documentation check all walk it.
 */
#include "config.h"
#include "duration.h"
#include "files.h"
#include "log.h"
#include "rcluster.h"
#include "util.h"
#include "writekeys.h"

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum param_type { P_STRING, P_INT, P_DURATION, P_ENUM, P_BOOL, P_SIZE };

struct param {
    const char *section, *key;
    enum param_type type;
    size_t offset;
    const char *def;
    long long min, max;  /* P_INT bounds; P_DURATION bounds in ms; P_SIZE in bytes */
    const char *choices; /* P_ENUM: "a|b|c" */
};

#define OFF(f) offsetof(struct config, f)
#define DAY 86400000LL

static const struct param params[] = {
    {"redis", "url", P_STRING, OFF(redis_url), "redis://127.0.0.1:6379/0", 0, 0, NULL},
    {"redis", "password_file", P_STRING, OFF(redis_password_file), "", 0, 0, NULL},
    {"redis", "prefix", P_STRING, OFF(redis_prefix), "nudged:", 0, 0, NULL},
    {"redis", "stream", P_STRING, OFF(redis_stream), "events", 0, 0, NULL},
    {"redis", "group", P_STRING, OFF(redis_group), "nudged", 0, 0, NULL},
    {"redis", "consumer", P_STRING, OFF(redis_consumer), "", 0, 0, NULL},
    {"redis", "cluster_nodes", P_STRING, OFF(redis_cluster_nodes), "", 0, 0, NULL},
    {"redis", "shards", P_INT, OFF(redis_shards), "16", 1, 1024, NULL},
    {"redis", "lease", P_DURATION, OFF(redis_lease_ms), "5s", 1000, 600000, NULL},
    {"redis", "cache_size", P_SIZE, OFF(redis_cache_size), "256MiB", 0, 1LL << 40, NULL},
    {"redis", "batch", P_INT, OFF(redis_batch), "200", 1, 10000, NULL},
    {"redis", "pipeline", P_INT, OFF(redis_pipeline), "4", 1, 8, NULL},
    {"redis", "claim_idle", P_DURATION, OFF(redis_claim_idle_ms), "60s", 1000, 7 * DAY, NULL},
    {"redis", "events_retention", P_DURATION, OFF(redis_events_retention_ms), "24h", 0, 365 * DAY, NULL},
    {"http", "ingest_listen", P_STRING, OFF(http_ingest_listen), "127.0.0.1:8620", 0, 0, NULL},
    {"http", "admin_listen", P_STRING, OFF(http_admin_listen), "127.0.0.1:8621", 0, 0, NULL},
    {"http", "write_keys_file", P_STRING, OFF(http_write_keys_file), "", 0, 0, NULL},
    {"http", "cors_origins", P_STRING, OFF(http_cors_origins), "", 0, 0, NULL},
    {"http", "max_backlog", P_INT, OFF(http_max_backlog), "1000000", 1, LLONG_MAX, NULL},
    {"http", "admin_token_file", P_STRING, OFF(http_admin_token_file), "", 0, 0, NULL},
    {"http", "collector_only", P_BOOL, OFF(http_collector_only), "no", 0, 0, NULL},
    {"smtp", "url", P_STRING, OFF(smtp_url), "smtp://127.0.0.1:25", 0, 0, NULL},
    {"smtp", "from", P_STRING, OFF(smtp_from), "", 0, 0, NULL},
    {"smtp", "user", P_STRING, OFF(smtp_user), "", 0, 0, NULL},
    {"smtp", "password_file", P_STRING, OFF(smtp_password_file), "", 0, 0, NULL},
    {"smtp", "tls", P_ENUM, OFF(smtp_tls), "optional", 0, 0, "required|optional|none"},
    {"smtp", "unsubscribe_url", P_STRING, OFF(smtp_unsubscribe_url), "", 0, 0, NULL},
    {"triggers", "dir", P_STRING, OFF(triggers_dir), "/etc/nudged/triggers.d", 0, 0, NULL},
    {"triggers", "active_period", P_DURATION, OFF(triggers_active_period_ms), "90d", 1000, 3650 * DAY, NULL},
    {"triggers", "default_timezone", P_STRING, OFF(triggers_default_timezone), "UTC", 0, 0, NULL},
    {"triggers", "profile_ttl", P_DURATION, OFF(triggers_profile_ttl_ms), "400d", 1000, 3650 * DAY, NULL},
    {"triggers", "frequency_cap", P_STRING, OFF(triggers_frequency_cap), "", 0, 0, NULL},
    {"triggers", "top_share", P_STRING, OFF(triggers_top_share), "20%", 0, 0, NULL},
    {"delivery", "max_inflight", P_INT, OFF(delivery_max_inflight), "256", 1, 100000, NULL},
    {"delivery", "per_host", P_INT, OFF(delivery_per_host), "32", 1, 100000, NULL},
    {"delivery", "retry_schedule", P_STRING, OFF(delivery_retry_schedule), "5s,5m,30m,2h,5h,10h,10h", 0, 0, NULL},
    {"delivery", "timeout", P_DURATION, OFF(delivery_timeout_ms), "10s", 100, 300000, NULL},
    {"delivery", "shutdown_timeout", P_DURATION, OFF(delivery_shutdown_timeout_ms), "10s", 0, 3600000, NULL},
    {"log", "level", P_ENUM, OFF(log_level), "info", 0, 0, "debug|info|warn|error"},
    {"log", "format", P_ENUM, OFF(log_format), "text", 0, 0, "text|json"},
};
#define NPARAMS (sizeof params / sizeof params[0])

struct load_state {
    struct config *cfg;
    struct errlist *errs;
    const char *file;
    FILE *fp;
    int line;
};

static bool enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* A size: a whole number and a unit B, KiB, MiB or GiB (binary, as
 * systemd's MemoryMax= reads them); -1 when V is not one. */
static long long parse_size(const char *v)
{
    static const struct {
        const char *unit;
        long long times;
    } units[] = {{"B", 1}, {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30}};
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || n < 0 || !isdigit((unsigned char)v[0]))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0)
            return n <= LLONG_MAX / units[i].times ? n * units[i].times : -1;
    return -1;
}

/* Sets one parameter from text; returns NULL or a message saying why not. */
static const char *param_set(struct config *cfg, const struct param *p, const char *v, char *why, size_t whylen)
{
    char *base = (char *)cfg + p->offset;
    long long n;
    int64_t ms;
    switch (p->type) {
    case P_STRING:
        free(*(char **)base);
        *(char **)base = util_xstrdup(v);
        return NULL;
    case P_ENUM:
        if (!enum_has(p->choices, v)) {
            snprintf(why, whylen, "must be one of %s, not \"%s\"", p->choices, v);
            return why;
        }
        free(*(char **)base);
        *(char **)base = util_xstrdup(v);
        return NULL;
    case P_BOOL:
        if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
            snprintf(why, whylen, "must be yes or no, not \"%s\"", v);
            return why;
        }
        *(bool *)base = v[0] == 'y';
        return NULL;
    case P_INT:
        if (util_parse_int(v, &n) != 0 || n < p->min || n > p->max) {
            snprintf(why, whylen, "must be a whole number from %lld to %lld, not \"%s\"", p->min, p->max, v);
            return why;
        }
        *(int64_t *)base = n;
        return NULL;
    case P_DURATION:
        if (duration_parse(v, &ms) != 0 || ms < p->min || ms > p->max) {
            snprintf(why, whylen, "must be a duration such as 30s, 10m, 1h or 7d (from %lldms to %lldms), not \"%s\"",
                     p->min, p->max, v);
            return why;
        }
        *(int64_t *)base = ms;
        return NULL;
    case P_SIZE:
        n = parse_size(v);
        if (n < p->min || n > p->max) {
            snprintf(why, whylen, "must be a size such as 64MiB, 512KiB or 1GiB (at most 1024GiB), not \"%s\"", v);
            return why;
        }
        *(int64_t *)base = n;
        return NULL;
    }
    return "unknown type";
}

static const struct param *param_find(const char *section, const char *key)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (strcmp(params[i].section, section) == 0 && strcmp(params[i].key, key) == 0)
            return &params[i];
    return NULL;
}

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
    struct load_state *st = user;
    char why[256];
    if (name == NULL) /* a section header alone */
        return 1;
    const struct param *p = param_find(section, name);
    if (p == NULL) {
        errlist_add(st->errs, "%s:%d: unknown key \"%s\" in section [%s]", st->file, st->line, name, section);
        return 1;
    }
    const char *err = param_set(st->cfg, p, value, why, sizeof why);
    if (err)
        errlist_add(st->errs, "%s:%d: %s.%s %s", st->file, st->line, section, name, err);
    return 1;
}

/* inih reads line by line through this, so the handler knows the line number. */
static char *counting_reader(char *str, int num, void *stream)
{
    struct load_state *st = stream;
    char *r = fgets(str, num, st->fp);
    if (r)
        st->line++;
    return r;
}

static void apply_env(struct config *cfg, struct errlist *errs)
{
    char name[128], why[256];
    for (size_t i = 0; i < NPARAMS; i++) {
        snprintf(name, sizeof name, "NUDGED_%s_%s", params[i].section, params[i].key);
        for (char *c = name; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        const char *v = getenv(name);
        if (v == NULL)
            continue;
        const char *err = param_set(cfg, &params[i], v, why, sizeof why);
        if (err)
            errlist_add(errs, "%s: %s", name, err);
    }
}

static int parse_retry_schedule(struct config *cfg, struct errlist *errs)
{
    char *copy = util_xstrdup(cfg->delivery_retry_schedule), *save = NULL;
    cfg->retry_n = 0;
    int rc = 0;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        int64_t ms;
        if (cfg->retry_n == CONFIG_MAX_RETRIES || duration_parse(tok, &ms) != 0) {
            errlist_add(errs, "delivery.retry_schedule: \"%s\" is not a duration, or more than %d retries", tok,
                        CONFIG_MAX_RETRIES);
            rc = -1;
            break;
        }
        cfg->retry_ms[cfg->retry_n++] = ms;
    }
    free(copy);
    return rc;
}

/* "N/DURATION": at most N emails a customer in any DURATION; "" for none. */
static int parse_frequency_cap(struct config *cfg, struct errlist *errs)
{
    const char *s = cfg->triggers_frequency_cap, *slash = strchr(s, '/');
    long long n = 0;
    char count[24];
    cfg->cap_max = cfg->cap_per_ms = 0;
    if (s[0] == '\0')
        return 0;
    if (slash && (size_t)(slash - s) < sizeof count) {
        snprintf(count, sizeof count, "%.*s", (int)(slash - s), s);
        if (util_parse_int(count, &n) == 0 && n >= 1 && n <= CONFIG_CAP_MAX &&
            duration_parse(slash + 1, &cfg->cap_per_ms) == 0 && cfg->cap_per_ms > 0) {
            cfg->cap_max = n;
            return 0;
        }
    }
    cfg->cap_per_ms = 0;
    errlist_add(errs,
                "triggers.frequency_cap: \"%s\" is not a cap: write EMAILS/DURATION, such as 3/7d (at most 3 emails "
                "a customer in any 7 days), with 1 to %d emails",
                s, CONFIG_CAP_MAX);
    return -1;
}

/* "20%": the share of buyers, by revenue, whose value tier is top. */
static int parse_top_share(struct config *cfg, struct errlist *errs)
{
    if (util_parse_share(cfg->triggers_top_share, &cfg->top_share) == 0 && cfg->top_share > 0)
        return 0;
    errlist_add(errs,
                "triggers.top_share: \"%s\" is not a share: write a percentage above 0%% and at most 100%%, such "
                "as 20%%",
                cfg->triggers_top_share);
    return -1;
}

static void set_defaults(struct config *cfg)
{
    char why[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NPARAMS; i++)
        if (param_set(cfg, &params[i], params[i].def, why, sizeof why) != NULL)
            util_fatal("bad built-in default"); /* a broken invariant of the table */
}

/* The admin token: the file's first line, which must hold the token. An
 * empty file, or a token on a later line, would otherwise turn the
 * authentication off without a word. */
static char *read_token(const char *path, struct errlist *errs)
{
    char *t = files_read_first_line(path);
    if (t == NULL) {
        errlist_add(errs, "http.admin_token_file: cannot read \"%s\"", path);
        return NULL;
    }
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
        t[--n] = '\0';
    if (n == 0 || strspn(t, " \t") > 0) {
        errlist_add(errs, "%s:1: http.admin_token_file must hold the token on its first line (%s)", path,
                    n == 0 ? "the line is empty" : "it starts with a space");
        free(t);
        return NULL;
    }
    return t;
}

/* The seeds of a Redis Cluster, when set, must be addresses. */
static void check_cluster(const struct config *cfg, struct errlist *errs)
{
    const char *why;
    if (*cfg->redis_cluster_nodes == '\0')
        return;
    if (!rcluster_seeds_valid(cfg->redis_cluster_nodes, &why))
        errlist_add(errs, "redis.cluster_nodes: %s, not \"%s\"", why, cfg->redis_cluster_nodes);
}

static void finish(struct config *cfg, struct errlist *errs)
{
    if (*cfg->redis_consumer == '\0') {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        free(cfg->redis_consumer);
        if (asprintf(&cfg->redis_consumer, "%s-%ld", host, (long)getpid()) < 0)
            util_fatal("out of memory");
    }
    if (*cfg->redis_password_file) {
        cfg->redis_password = files_read_first_line(cfg->redis_password_file);
        if (cfg->redis_password == NULL)
            errlist_add(errs, "redis.password_file: cannot read \"%s\"", cfg->redis_password_file);
    }
    if (*cfg->smtp_password_file) {
        cfg->smtp_password = files_read_first_line(cfg->smtp_password_file);
        if (cfg->smtp_password == NULL)
            errlist_add(errs, "smtp.password_file: cannot read \"%s\"", cfg->smtp_password_file);
    }
    if (*cfg->http_admin_token_file)
        cfg->admin_token = read_token(cfg->http_admin_token_file, errs);
    if (*cfg->http_ingest_listen && *cfg->http_write_keys_file)
        cfg->write_keys = writekeys_load(cfg->http_write_keys_file, errs);
    if (strncmp(cfg->smtp_url, "smtp://", 7) != 0 && strncmp(cfg->smtp_url, "smtps://", 8) != 0)
        errlist_add(errs, "smtp.url: must start with smtp:// or smtps://, not \"%s\"", cfg->smtp_url);
    if (strncmp(cfg->redis_url, "redis://", 8) != 0 && strncmp(cfg->redis_url, "unix://", 7) != 0)
        errlist_add(errs, "redis.url: must start with redis:// or unix://, not \"%s\"", cfg->redis_url);
    if (strchr(cfg->redis_prefix, '{') || strchr(cfg->redis_prefix, '}'))
        errlist_add(errs, "redis.prefix: must not contain { or } (they mark the shard's hash tag)");
    check_cluster(cfg, errs);
    if (cfg->http_collector_only && cfg->write_keys == NULL)
        errlist_add(errs, "http.collector_only = yes needs the collector: set ingest_listen and write_keys_file");
    if (cfg->delivery_timeout_ms >= cfg->redis_claim_idle_ms)
        errlist_add(errs,
                    "delivery.timeout (%lldms) must be shorter than redis.claim_idle (%lldms): "
                    "a delivery still in flight would be claimed again",
                    (long long)cfg->delivery_timeout_ms, (long long)cfg->redis_claim_idle_ms);
    (void)parse_retry_schedule(cfg, errs);
    (void)parse_frequency_cap(cfg, errs);
    (void)parse_top_share(cfg, errs);
}

int config_load(struct config *cfg, const char *path, struct errlist *errs)
{
    size_t before = errs->n;
    set_defaults(cfg);
    if (path) {
        struct load_state st = {cfg, errs, path, fopen(path, "r"), 0};
        if (st.fp == NULL) {
            errlist_add(errs, "%s: cannot open the config file", path);
        } else {
            int rc = ini_parse_stream(counting_reader, &st, on_ini_line, &st);
            fclose(st.fp);
            if (rc > 0)
                errlist_add(errs, "%s:%d: not a section, key = value line or comment", path, rc);
        }
    }
    apply_env(cfg, errs);
    finish(cfg, errs);
    return errs->n > before ? -1 : 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (params[i].type == P_STRING || params[i].type == P_ENUM)
            free(*(char **)((char *)cfg + params[i].offset));
    free(cfg->redis_password);
    if (cfg->admin_token)
        memset(cfg->admin_token, 0, strlen(cfg->admin_token));
    free(cfg->admin_token);
    writekeys_free(cfg->write_keys);
    if (cfg->smtp_password)
        memset(cfg->smtp_password, 0, strlen(cfg->smtp_password));
    free(cfg->smtp_password);
    memset(cfg, 0, sizeof *cfg);
}

void config_print_keys(void)
{
    for (size_t i = 0; i < NPARAMS; i++)
        printf("%s.%s\n", params[i].section, params[i].key);
}
