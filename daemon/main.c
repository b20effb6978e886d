/* main.c — the command line (SPEC 6): run, check, replay, forget, redrive,
 * report, shard, version, help.
 * Exit codes: 0 ok, 1 invalid config or triggers, 2 usage, 3 runtime failure. */
#include "config.h"
#include "daemon.h"
#include "duration.h"
#include "errlist.h"
#include "firing.h"
#include "forget.h"
#include "keys.h"
#include "log.h"
#include "oneshot.h"
#include "redrive.h"
#include "replay.h"
#include "report.h"
#include "shard.h"
#include "tdir.h"
#include "template.h"
#include "trigger.h"
#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/nudged/nudged.conf"

/* jemalloc's options, read once at its start (the MALLOC_CONF environment
 * variable still overrides them). A batch makes and then frees thousands of
 * small objects (jansson values, replies, curl's buffers): with the default
 * thread cache of at most 200 objects a size class, and its garbage
 * collection every 64 KiB allocated, most of them go back to the arena and
 * come out again, a cost that make bench-instructions shows. A larger
 * cache, collected every MiB, keeps them and adds under a MiB to the peak
 * RSS. Ignored when nudged is built with glibc's malloc (make
 * MALLOC=libc, the sanitizer builds). */
const char *malloc_conf = "tcache_nslots_small_min:500,tcache_nslots_small_max:2000,"
                          "tcache_gc_incr_bytes:1048576";

static const char usage[] = "usage: nudged [-c FILE]              run in the foreground\n"
                            "       nudged check [-c FILE]        validate the config and the triggers\n"
                            "       nudged replay [-c FILE] EVENTS.jsonl   run events through the triggers, print\n"
                            "                                     each firing as JSON; no Redis, sends nothing\n"
                            "                                     (\"-\" reads standard input)\n"
                            "       nudged forget [-c FILE] ID    erase a customer: every key, scheduled item\n"
                            "                                     and merged anonymous id (GDPR art. 17)\n"
                            "       nudged redrive [-c FILE] [--trigger ID] [--since DURATION] [--dry-run]\n"
                            "                                     send the dead deliveries again, each with its\n"
                            "                                     webhook-id; print what moved\n"
                            "       nudged report [-c FILE] [TRIGGER...]\n"
                            "                                     each trigger's firings, holdout and conversions,\n"
                            "                                     with the uplift and its 95 % interval\n"
                            "       nudged shard [-c FILE] ID     print the events stream of customer ID's shard,\n"
                            "                                     where a producer writes its events\n"
                            "       nudged version\n"
                            "       nudged --help\n"
                            "The default config is " DEFAULT_CONFIG ". Exit codes: 0 ok, 1 invalid config or\n"
                            "triggers, 2 usage, 3 runtime failure.\n";

static void print_errors(const struct errlist *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "%s\n", errs->lines[i]);
}

static bool default_zone_ok(const struct config *cfg, struct errlist *errs)
{
    struct tz_cache *tz = tz_cache_new(NULL);
    int32_t off;
    bool ok = tz_offset(tz, cfg->triggers_default_timezone, 0, &off) == 0;
    tz_cache_free(tz);
    if (!ok)
        errlist_add(errs, "triggers.default_timezone: \"%s\" is not a time zone such as UTC or Europe/Amsterdam",
                    cfg->triggers_default_timezone);
    return ok;
}

static bool unsubscribe_ok(const struct config *cfg, struct errlist *errs)
{
    size_t before = errs->n;
    template_free(firing_unsubscribe_template(cfg, errs));
    return errs->n == before;
}

/* Loads config and triggers; prints every problem. Returns 0 or 1. */
static int load_all(const char *path, struct config *cfg, struct trigger_set **set)
{
    struct errlist errs = {0};
    *set = NULL;
    if (config_load(cfg, path, &errs) == 0 && default_zone_ok(cfg, &errs) && unsubscribe_ok(cfg, &errs))
        *set = tdir_load(cfg->triggers_dir, &errs);
    if (*set && trigger_set_check_timeouts(*set, cfg->redis_claim_idle_ms, &errs) > 0) {
        trigger_set_free(*set);
        *set = NULL;
    }
    print_errors(&errs);
    errlist_clear(&errs);
    return *set ? 0 : 1;
}

/* What check found of the layout stored in Redis. */
struct layout_probe {
    const char *path;
    const struct config *cfg;
    int rc;
};

static void on_layout(const redisReply *reply, void *data)
{
    struct layout_probe *p = data;
    char why[400];
    const char *bad = NULL;
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "WRONGTYPE", 9) == 0)
        bad = keys_layout_mismatch(p->cfg, NULL, NULL, why, sizeof why);
    else if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
             reply->element[0]->type == REDIS_REPLY_STRING)
        bad = keys_layout_mismatch(p->cfg, reply->element[0]->str,
                                   reply->element[1]->type == REDIS_REPLY_STRING ? reply->element[1]->str : NULL, why,
                                   sizeof why);
    else if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        fprintf(stderr, "%s: note: Redis at %s did not answer; the layout stored there was not compared\n", p->path,
                *p->cfg->redis_cluster_nodes ? p->cfg->redis_cluster_nodes : p->cfg->redis_url);
    if (bad) {
        fprintf(stderr, "%s: %s\n", p->path, bad);
        p->rc = 1;
    }
}

/* SPEC 8: the number of shards is fixed once data exists, so check
 * compares it (and the layout version) with what Redis holds, when Redis
 * answers at once; Redis is not needed for the rest of check. */
static int check_layout(const char *path, const struct config *cfg)
{
    struct layout_probe p = {path, cfg, 0};
    struct keys keys;
    struct cmd c;
    keys_init(&keys, cfg);
    cmd_init(&c);
    cmd_adds(&c, "HMGET");
    cmd_adds(&c, keys.layout);
    cmd_adds(&c, "version");
    cmd_adds(&c, "shards");
    log_setup(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT); /* a Redis that is not there is a note, not a log line */
    oneshot_run(cfg, "check", &c, 2, true, on_layout, &p);
    cmd_free(&c);
    keys_free(&keys);
    return p.rc;
}

static int cmd_check(const char *path)
{
    struct config cfg;
    struct trigger_set *set;
    int rc = load_all(path, &cfg, &set);
    if (rc == 0)
        rc = check_layout(path, &cfg);
    if (rc == 0)
        printf("%s: ok, %zu triggers in %s\n", path, trigger_set_count(set), cfg.triggers_dir);
    trigger_set_free(set);
    config_free(&cfg);
    return rc;
}

static int cmd_replay(const char *path, const char *events)
{
    struct config cfg;
    struct trigger_set *set;
    if (load_all(path, &cfg, &set) != 0) {
        config_free(&cfg);
        return 1;
    }
    FILE *in = strcmp(events, "-") == 0 ? stdin : fopen(events, "r");
    int rc = 3;
    if (in == NULL) {
        fprintf(stderr, "nudged: cannot open \"%s\": %s\n", events, strerror(errno));
    } else {
        rc = replay_run(&cfg, set, in, stdout, stderr);
        if (in != stdin)
            fclose(in);
    }
    trigger_set_free(set);
    config_free(&cfg);
    return rc;
}

/* A command that needs the config and Redis, not the triggers: loads PATH
 * (1 on errors, all printed), then runs FN. */
static int with_config(const char *path, int (*fn)(const struct config *cfg, const void *arg), const void *arg)
{
    struct config cfg;
    struct errlist errs = {0};
    log_setup((enum log_level)log_level_parse("warn"), LOG_FORMAT_TEXT);
    int rc = config_load(&cfg, path, &errs) == 0 ? fn(&cfg, arg) : 1;
    print_errors(&errs);
    errlist_clear(&errs);
    config_free(&cfg);
    return rc;
}

static int run_forget(const struct config *cfg, const void *id)
{
    return forget_run(cfg, id);
}

static int run_redrive(const struct config *cfg, const void *o)
{
    return redrive_run(cfg, o);
}

/* SPEC 8: the stream a producer writes customer ID's events to. */
static int run_shard(const struct config *cfg, const void *id)
{
    struct keys k;
    keys_init(&k, cfg);
    printf("%s\n", keys_shard_stream(&k, shard_of(id, (unsigned)cfg->redis_shards)));
    keys_free(&k);
    return 0;
}

static int cmd_forget(const char *path, const char *id)
{
    if (id == NULL) {
        fprintf(stderr, "nudged: forget needs a customer id\n%s", usage);
        return 2;
    }
    return with_config(path, run_forget, id);
}

/* redrive's own options; 1 when ARGV[*I] is one (taken), -1 when it is
 * one but wrong (said on stderr), 0 when it is none. */
static int redrive_option(int argc, char **argv, int *i, struct redrive_opts *o)
{
    if (strcmp(argv[*i], "--dry-run") == 0) {
        o->dry_run = true;
        return 1;
    }
    if (strcmp(argv[*i], "--trigger") == 0 && *i + 1 < argc) {
        o->trigger = argv[++*i];
        return 1;
    }
    if (strcmp(argv[*i], "--since") == 0 && *i + 1 < argc) {
        if (duration_parse(argv[++*i], &o->since_ms) != 0 || o->since_ms <= 0) {
            fprintf(stderr, "nudged: --since takes a duration such as 30m, 2h or 7d, not \"%s\"\n", argv[*i]);
            return -1;
        }
        return 1;
    }
    return 0;
}

static int cmd_report(const char *path, char *const *ids, size_t n)
{
    struct config cfg;
    struct trigger_set *set;
    int rc = load_all(path, &cfg, &set);
    if (rc == 0) {
        log_setup((enum log_level)log_level_parse("warn"), LOG_FORMAT_TEXT);
        rc = report_run(&cfg, set, ids, n);
    }
    trigger_set_free(set);
    config_free(&cfg);
    return rc;
}

static int cmd_run(const char *path)
{
    struct config cfg;
    struct trigger_set *set;
    if (load_all(path, &cfg, &set) != 0) {
        config_free(&cfg);
        return 1;
    }
    log_setup((enum log_level)log_level_parse(cfg.log_level),
              strcmp(cfg.log_format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
    int rc = daemon_run(&cfg, set);
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = "run", *path = DEFAULT_CONFIG, *arg = NULL;
    struct redrive_opts ro = {NULL, 0, false};
    /* report's trigger ids, gathered over the arguments already read: the
     * k-th id goes to argv[2 + k], and the argument that holds it is at
     * argv[2 + k] or later */
    char **ids = argv + 2;
    size_t nids = 0;
    int i = 1, taken;
    if (i < argc && argv[i][0] != '-')
        cmd = argv[i++];
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--print-config-keys") == 0) { /* for make check */
            config_print_keys();
            return 0;
        } else if (strcmp(cmd, "redrive") == 0 && (taken = redrive_option(argc, argv, &i, &ro)) != 0) {
            if (taken < 0)
                return 2;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(cmd, "report") == 0 && argv[i][0] != '-') {
            ids[nids++] = argv[i];
        } else if (arg == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0) &&
                   (strcmp(cmd, "replay") == 0 || strcmp(cmd, "forget") == 0 || strcmp(cmd, "shard") == 0)) {
            arg = argv[i];
        } else {
            fprintf(stderr, "nudged: unexpected argument \"%s\"\n%s", argv[i], usage);
            return 2;
        }
    }
    if (strcmp(cmd, "version") == 0) {
        printf("nudged %s\n", NUDGED_VERSION);
        return 0;
    }
    if (strcmp(cmd, "check") == 0)
        return cmd_check(path);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(path);
    if (strcmp(cmd, "replay") == 0 && arg == NULL) {
        fprintf(stderr, "nudged: replay needs an events file (one JSON message a line)\n%s", usage);
        return 2;
    }
    if (strcmp(cmd, "replay") == 0)
        return cmd_replay(path, arg);
    if (strcmp(cmd, "forget") == 0)
        return cmd_forget(path, arg);
    if (strcmp(cmd, "redrive") == 0)
        return with_config(path, run_redrive, &ro);
    if (strcmp(cmd, "shard") == 0 && (arg == NULL || *arg == '\0')) {
        fprintf(stderr, "nudged: shard needs a customer id (the userId, else the anonymousId)\n%s", usage);
        return 2;
    }
    if (strcmp(cmd, "shard") == 0)
        return with_config(path, run_shard, arg);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(path, ids, nids);
    fprintf(stderr, "nudged: unknown command \"%s\"\n%s", cmd, usage);
    return 2;
}
