/* test_config.c — the config loader: every kind of bad value, with its file and line. */
#include "config.h"
#include "errlist.h"
#include "harness.h"

#include <unistd.h>

static char *write_conf(const char *text)
{
    char *path = strdup("/tmp/nudged-conf-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

static const struct {
    const char *name, *text, *want; /* want: a substring of one error, or NULL when valid */
} conf_cases[] = {
    {"defaults", "", NULL},
    {"all sections", "[redis]\nurl = unix:///run/redis.sock\nbatch = 50\n[delivery]\nretry_schedule = 1s, 1m\n", NULL},
    {"unknown key", "[redis]\n\nbogus = 1\n", ":3: unknown key \"bogus\" in section [redis]"},
    {"unknown section", "[nope]\nx = 1\n", ":2: unknown key \"x\" in section [nope]"},
    {"bad number", "[redis]\nbatch = lots\n", ":2: redis.batch must be a whole number from 1 to 10000, not \"lots\""},
    {"out of range", "[delivery]\nmax_inflight = 0\n", ":2: delivery.max_inflight must be a whole number"},
    {"bad duration", "[redis]\nclaim_idle = soon\n", ":2: redis.claim_idle must be a duration"},
    {"a cache size", "[redis]\ncache_size = 64MiB\n", NULL},
    {"a cache size of none", "[redis]\ncache_size = 0B\n", NULL},
    {"a cache size without a unit", "[redis]\ncache_size = 64\n",
     ":2: redis.cache_size must be a size such as 64MiB, 512KiB or 1GiB (at most 1024GiB), not \"64\""},
    {"a cache size in decimal units", "[redis]\ncache_size = 64MB\n", "redis.cache_size must be a size"},
    {"a cache size too large", "[redis]\ncache_size = 2000GiB\n", "redis.cache_size must be a size"},
    {"bad enum", "[log]\nformat = xml\n", ":2: log.format must be one of text|json, not \"xml\""},
    {"bad url", "[redis]\nurl = http://x\n", "redis.url: must start with redis:// or unix://"},
    {"braces in prefix", "[redis]\nprefix = {x}\n", "redis.prefix: must not contain { or }"},
    {"bad retry schedule", "[delivery]\nretry_schedule = 5s,often\n", "\"often\" is not a duration"},
    {"timeout past claim_idle", "[redis]\nclaim_idle = 5s\n[delivery]\ntimeout = 10s\n",
     "delivery.timeout (10000ms) must be shorter than redis.claim_idle (5000ms)"},
    {"not ini", "[redis\n", ":1: not a section"},
    {"cluster nodes for a consumer", "[redis]\ncluster_nodes = 127.0.0.1:7000\n", NULL},
    {"cluster nodes without a port", "[redis]\ncluster_nodes = 127.0.0.1:7000 10.0.0.2\n",
     "each address of redis.cluster_nodes must be host:port"},
    {"a frequency cap without a window", "[triggers]\nfrequency_cap = 3\n",
     "triggers.frequency_cap: \"3\" is not a cap: write EMAILS/DURATION, such as 3/7d"},
    {"a frequency cap of none", "[triggers]\nfrequency_cap = 0/7d\n", "\"0/7d\" is not a cap"},
    {"a frequency cap past its bound", "[triggers]\nfrequency_cap = 101/7d\n", "with 1 to 100 emails"},
    {"a frequency cap with a bad window", "[triggers]\nfrequency_cap = 3/week\n", "\"3/week\" is not a cap"},
    {"a frequency cap", "[triggers]\nfrequency_cap = 3/7d\n", NULL},
    {"a top share of none", "[triggers]\ntop_share = 0%\n",
     "triggers.top_share: \"0%\" is not a share: write a percentage above 0% and at most 100%, such as 20%"},
    {"a top share without %", "[triggers]\ntop_share = 20\n", "\"20\" is not a share"},
    {"a top share", "[triggers]\ntop_share = 12.5%\n", NULL},
};

static void test_config(void)
{
    for (size_t i = 0; i < sizeof conf_cases / sizeof conf_cases[0]; i++) {
        char *path = write_conf(conf_cases[i].text);
        struct config cfg;
        struct errlist errs = {0};
        int rc = config_load(&cfg, path, &errs);
        if (conf_cases[i].want == NULL) {
            CHECK(rc == 0, "%s: should load, got %s", conf_cases[i].name, errs.n ? errs.lines[0] : "?");
        } else {
            int found = 0;
            for (size_t k = 0; k < errs.n; k++)
                found |= strstr(errs.lines[k], conf_cases[i].want) != NULL;
            CHECK(rc == -1 && found, "%s: want \"%s\", got \"%s\"", conf_cases[i].name, conf_cases[i].want,
                  errs.n ? errs.lines[0] : "(none)");
        }
        config_free(&cfg);
        errlist_clear(&errs);
        unlink(path);
        free(path);
    }
    /* The environment overrides the file. */
    char *path = write_conf("[redis]\nbatch = 10\n");
    struct config cfg;
    struct errlist errs = {0};
    setenv("NUDGED_REDIS_BATCH", "77", 1);
    setenv("NUDGED_DELIVERY_RETRY_SCHEDULE", "1s,2s,3s", 1);
    CHECK(config_load(&cfg, path, &errs) == 0 && cfg.redis_batch == 77, "env override");
    CHECK(cfg.retry_n == 3 && cfg.retry_ms[2] == 3000, "retry schedule parsed");
    config_free(&cfg);
    setenv("NUDGED_REDIS_BATCH", "none", 1);
    CHECK(config_load(&cfg, path, &errs) == -1 && strstr(errs.lines[0], "NUDGED_REDIS_BATCH: redis.batch") == NULL &&
              strstr(errs.lines[0], "NUDGED_REDIS_BATCH:"),
          "bad env value named: %s", errs.n ? errs.lines[0] : "");
    unsetenv("NUDGED_REDIS_BATCH");
    unsetenv("NUDGED_DELIVERY_RETRY_SCHEDULE");
    config_free(&cfg);
    errlist_clear(&errs);
    unlink(path);
    free(path);
}

int main(void)
{
    test_config();
    return harness_summary("test_config");
}
