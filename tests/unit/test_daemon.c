/* test_daemon.c — the daemon's pure helpers: the Standard Webhooks
 * signature, webhook headers, config loading errors, stable ids. */
#include "config.h"
#include "harness.h"
#include "tz.h"
#include "hashid.h"
#include "webhook.h"

#include <openssl/evp.h>

#include <stdlib.h>
#include <unistd.h>

static void test_signature_vector(void)
{
    /* The test vector of PITFALLS / the Standard Webhooks reference. */
    static const unsigned char key_b64[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    unsigned char key[64];
    int n = EVP_DecodeBlock(key, key_b64, (int)strlen((const char *)key_b64));
    char sig[WEBHOOK_SIG_MAX];
    webhook_sign(key, (size_t)n, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}", sig);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "signature");
}

static void test_headers(void)
{
    struct curl_slist *h = webhook_headers("msg_1", 42, NULL, 0, "{}", "{\"x-campaign\": \"welcome\"}");
    int id = 0, ts = 0, sig = 0, custom = 0, ua = 0;
    for (struct curl_slist *l = h; l; l = l->next) {
        id |= strcmp(l->data, "webhook-id: msg_1") == 0;
        ts |= strcmp(l->data, "webhook-timestamp: 42") == 0;
        sig |= strncmp(l->data, "webhook-signature", 17) == 0;
        custom |= strcmp(l->data, "x-campaign: welcome") == 0;
        ua |= strncmp(l->data, "user-agent: nudged/", 19) == 0;
    }
    CHECK(id && ts && custom && ua, "standard and custom headers present");
    CHECK(!sig, "no signature without a secret");
    curl_slist_free_all(h);
    CHECK(webhook_headers("msg_1", 42, NULL, 0, "{}", "[1]") == NULL, "headers must be an object");
}

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
    {"bad enum", "[log]\nformat = xml\n", ":2: log.format must be one of text|json, not \"xml\""},
    {"bad url", "[redis]\nurl = http://x\n", "redis.url: must start with redis:// or unix://"},
    {"braces in prefix", "[redis]\nprefix = {x}\n", "redis.prefix: must not contain { or }"},
    {"bad retry schedule", "[delivery]\nretry_schedule = 5s,often\n", "\"often\" is not a duration"},
    {"timeout past claim_idle", "[redis]\nclaim_idle = 5s\n[delivery]\ntimeout = 10s\n",
     "delivery.timeout (10000ms) must be shorter than redis.claim_idle (5000ms)"},
    {"not ini", "[redis\n", ":1: not a section"},
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
              strstr(errs.lines[0], "NUDGED_REDIS_BATCH:"), "bad env value named: %s", errs.n ? errs.lines[0] : "");
    unsetenv("NUDGED_REDIS_BATCH");
    unsetenv("NUDGED_DELIVERY_RETRY_SCHEDULE");
    config_free(&cfg);
    errlist_clear(&errs);
    unlink(path);
    free(path);
}

static void test_ids(void)
{
    char a[HASHID_DELIVERY_LEN], b[HASHID_DELIVERY_LEN], c[HASHID_DELIVERY_LEN];
    hashid_delivery("cart", "m1", 0, a);
    hashid_delivery("cart", "m1", 0, b);
    hashid_delivery("cart", "m1", 1, c);
    CHECK(strcmp(a, b) == 0 && strncmp(a, "msg_", 4) == 0 && strlen(a) == 28, "delivery id stable: %s", a);
    CHECK(strcmp(a, c) != 0, "each action has its own id");
    unsigned char f1[HASHID_DEDUP_LEN], f2[HASHID_DEDUP_LEN];
    hashid_firing("ab", "c", f1);
    hashid_firing("a", "bc", f2);
    CHECK(memcmp(f1, f2, sizeof f1) != 0, "parts are separated");
}

/* Offsets from the system's tzdata: winter and summer time, and names that
 * must never become paths. */
static void test_timezones(void)
{
    struct tz_cache *tz = tz_cache_new(NULL);
    int32_t off = 12345;
    CHECK(tz_offset(tz, "Europe/Amsterdam", 1793000000000LL, &off) == 0 && off == 3600, "winter: %d", off);
    CHECK(tz_offset(tz, "Europe/Amsterdam", 1782000000000LL, &off) == 0 && off == 7200, "summer: %d", off);
    CHECK(tz_offset(tz, "America/New_York", 1795000000000LL, &off) == 0 && off == -18000, "new york: %d", off);
    CHECK(tz_offset(tz, "UTC", 1793000000000LL, &off) == 0 && off == 0, "utc: %d", off);
    CHECK(tz_offset(tz, "Asia/Kolkata", 1793000000000LL, &off) == 0 && off == 19800, "kolkata: %d", off);
    static const char *const bad[] = {"../../etc/passwd", "/etc/passwd", "Europe/../../x", "", "Mars/Base",
                                      "Europe//Amsterdam", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(tz_offset(tz, bad[i], 0, &off) != 0, "\"%s\" must not be a zone", bad[i]);
    CHECK(tz_offset_or(tz, "Mars/Base", "Europe/Amsterdam", 1793000000000LL) == 3600, "fallback to the default");
    CHECK(tz_offset_or(tz, NULL, "Nowhere/Else", 1793000000000LL) == 0, "UTC when nothing is known");
    tz_cache_free(tz);
}

int main(void)
{
    test_timezones();
    test_signature_vector();
    test_headers();
    test_config();
    test_ids();
    return harness_summary("test_daemon");
}
