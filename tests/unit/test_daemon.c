/* test_daemon.c — the daemon's pure helpers: the Standard Webhooks
 * signature, webhook headers, config loading errors, stable ids, the reply
 * arena. */
#include "config.h"
#include "harness.h"
#include "mail.h"
#include "tz.h"

#include "cmd.h"
#include "hashid.h"
#include "hostq.h"
#include "keys.h"
#include "rarena.h"
#include "rounds.h"
#include "util.h"
#include "webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_signature_vector(void)
{
    /* The test vector of PITFALLS / the Standard Webhooks reference. */
    static const unsigned char key_b64[] = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    unsigned char key[64];
    int n = EVP_DecodeBlock(key, key_b64, (int)strlen((const char *)key_b64));
    char sig[WEBHOOK_SIG_MAX];
    struct webhook_signer *s = webhook_signer_new();
    CHECK(s != NULL, "a signer");
    for (int round = 0; round < 2; round++) { /* the second with the kept key */
        CHECK(webhook_sign(s, key, (size_t)n, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}",
                           sig) == 0,
              "signed");
        CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "signature");
    }
    webhook_signer_free(s);
}

/* Kept keys give what a fresh HMAC gives, for more secrets than the signer
 * keeps, used in turn and again, of lengths that are prefixes of each
 * other. */
static void test_signature_keys(void)
{
    struct webhook_signer *s = webhook_signer_new();
    unsigned char keys[40][40];
    for (int k = 0; k < 40; k++)
        for (int b = 0; b < 40; b++)
            keys[k][b] = (unsigned char)(k < 20 ? 7 * k + b : 'a'); /* 20..39: "a", "aa", ... */
    int wrong = 0;
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 40; k++) {
            size_t len = k < 20 ? 32 : (size_t)(k - 19);
            char body[32], sig[WEBHOOK_SIG_MAX], want[WEBHOOK_SIG_MAX], msg[64];
            snprintf(body, sizeof body, "{\"n\":%d}", round * 100 + k);
            int n = snprintf(msg, sizeof msg, "msg_%d.%d.%s", k, 1000 + round, body);
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int maclen = 0;
            HMAC(EVP_sha256(), keys[k], (int)len, (const unsigned char *)msg, (size_t)n, mac, &maclen);
            memcpy(want, "v1,", 3);
            EVP_EncodeBlock((unsigned char *)want + 3, mac, (int)maclen);
            char id[16];
            snprintf(id, sizeof id, "msg_%d", k);
            wrong += webhook_sign(s, keys[k], len, id, 1000 + round, body, sig) != 0 || strcmp(sig, want) != 0;
        }
    }
    CHECK(wrong == 0, "%d of 120 signatures differ from HMAC()", wrong);
    webhook_signer_free(s);
}

static void test_headers(void)
{
    struct curl_slist *h = webhook_headers(NULL, "msg_1", 42, NULL, 0, "{}", "{\"x-campaign\": \"welcome\"}");
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

    /* A header line longer than 8 KiB is cut, not overrun. */
    char long_json[10100];
    int n = snprintf(long_json, sizeof long_json, "{\"x-long\": \"");
    memset(long_json + n, 'a', 10000);
    strcpy(long_json + n + 10000, "\"}");
    h = webhook_headers(NULL, "msg_1", 42, NULL, 0, "{}", long_json);
    size_t longest = 0, expect = 0;
    for (struct curl_slist *l = h; l; l = l->next) {
        if (strncmp(l->data, "x-long: aaa", 11) == 0)
            longest = strlen(l->data);
        expect |= strcmp(l->data, "Expect:") == 0;
    }
    CHECK(longest == 8191 && expect, "long header cut to %zu bytes; \"Expect:\" alone", longest);
    curl_slist_free_all(h);
    CHECK(webhook_headers(NULL, "msg_1", 42, NULL, 0, "{}", "[1]") == NULL, "headers must be an object");

    /* With a secret: signed by the signer; without a signer it cannot be,
     * and no unsigned request goes out (the caller retries). */
    struct webhook_signer *s = webhook_signer_new();
    h = webhook_headers(s, "msg_1", 42, (const unsigned char *)"k", 1, "{}", NULL);
    sig = 0;
    for (struct curl_slist *l = h; l; l = l->next)
        sig |= strncmp(l->data, "webhook-signature: v1,", 22) == 0 && strlen(l->data) == 22 + 44;
    CHECK(sig, "signed with a secret");
    curl_slist_free_all(h);
    CHECK(webhook_headers(NULL, "msg_1", 42, (const unsigned char *)"k", 1, "{}", NULL) == NULL,
          "no signer, no request");
    webhook_signer_free(s);
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
              strstr(errs.lines[0], "NUDGED_REDIS_BATCH:"),
          "bad env value named: %s", errs.n ? errs.lines[0] : "");
    unsetenv("NUDGED_REDIS_BATCH");
    unsetenv("NUDGED_DELIVERY_RETRY_SCHEDULE");
    config_free(&cfg);
    errlist_clear(&errs);
    unlink(path);
    free(path);
}

static void test_i64(void)
{
    static const struct {
        int64_t v;
        const char *want;
    } cases[] = {{0, "0"},
                 {7, "7"},
                 {-1, "-1"},
                 {1700000000000, "1700000000000"},
                 {INT64_MAX, "9223372036854775807"},
                 {INT64_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UTIL_I64_LEN];
        CHECK_STR(util_i64(buf, cases[i].v), cases[i].want, "util_i64");
    }
}

static void test_ids(void)
{
    char a[HASHID_DELIVERY_LEN], b[HASHID_DELIVERY_LEN], c[HASHID_DELIVERY_LEN];
    EVP_MD *sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    hashid_delivery(sha256, "cart", "m1", 0, a);
    hashid_delivery(NULL, "cart", "m1", 0, b); /* fetched on the call: the same id */
    hashid_delivery(sha256, "cart", "m1", 1, c);
    CHECK(strcmp(a, b) == 0 && strncmp(a, "msg_", 4) == 0 && strlen(a) == 28, "delivery id stable: %s / %s", a, b);
    CHECK(strcmp(a, c) != 0, "each action has its own id");
    /* python3: "msg_" + sha256(b"cart\0m1\x000\0").hexdigest()[:24] */
    CHECK_STR(a, "msg_977ca4bc68086482f4d3dd12", "delivery id is SHA-256 of trigger, mid, action");
    EVP_MD_free(sha256);
    unsigned char f1[HASHID_DEDUP_LEN], f2[HASHID_DEDUP_LEN];
    hashid_firing("ab", "c", f1);
    hashid_firing("a", "bc", f2);
    CHECK(memcmp(f1, f2, sizeof f1) != 0, "parts are separated");
    hashid_message("c", f2);
    hashid_firing("", "c", f1);
    CHECK(memcmp(f1, f2, sizeof f1) != 0, "an event and a firing never share a member");
}

/* Command pieces built without printf: numbers at their edges, and a
 * customer's key. Owned pieces live in the arena until sent. */
static void test_cmd_pieces(void)
{
    struct cmd c;
    struct keys k = {.prefix = "nudged:"};
    cmd_init(&c);
    cmd_addi(&c, 0);
    cmd_addi(&c, -5);
    cmd_addi(&c, INT64_MIN);
    cmd_addi(&c, INT64_MAX);
    keys_add_customer(&c, &k, "ann@example.com", 'p');
    static const char *const want[] = {"0", "-5", "-9223372036854775808", "9223372036854775807",
                                       "nudged:{ann@example.com}:p"};
    CHECK(c.n == 5, "5 pieces, not %zu", c.n);
    for (size_t i = 0; i < c.n && i < 5; i++) {
        const char *got = c.arena + c.off[i];
        CHECK(c.lens[i] == strlen(want[i]) && memcmp(got, want[i], c.lens[i]) == 0, "piece %zu: %.*s", i,
              (int)c.lens[i], got);
    }
    cmd_free(&c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The dedup members are a stored format (a change re-applies events that
 * are redelivered across an upgrade): pinned. And 200,000 ids that differ
 * in one digit, as sequential messageIds do, give 200,000 members. */
static void test_dedup_hash_spread(void)
{
    static const unsigned char pinned[HASHID_DEDUP_LEN] = {0x6d, 0x1b, 0xcc, 0x47, 0xd8, 0x43};
    unsigned char h[HASHID_DEDUP_LEN];
    hashid_message("d-42", h);
    CHECK(memcmp(h, pinned, sizeof h) == 0, "pinned: %02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3], h[4], h[5]);
    enum { N = 200000 };
    uint64_t *v = malloc(N * sizeof *v);
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "d-%d", i);
        hashid_message(id, h);
        v[i] = 0;
        for (int k = 0; k < HASHID_DEDUP_LEN; k++)
            v[i] = v[i] << 8 | h[k];
    }
    qsort(v, N, sizeof *v, cmp_u64);
    size_t same = 0;
    for (int i = 1; i < N; i++)
        same += v[i] == v[i - 1];
    CHECK(same == 0, "%zu collisions among %d sequential ids", same, N);
    free(v);
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
    static const char *const bad[] = {"../../etc/passwd",  "/etc/passwd", "Europe/../../x", "", "Mars/Base",
                                      "Europe//Amsterdam", "a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(tz_offset(tz, bad[i], 0, &off) != 0, "\"%s\" must not be a zone", bad[i]);
    CHECK(tz_offset_or(tz, "Mars/Base", "Europe/Amsterdam", 1793000000000LL) == 3600, "fallback to the default");
    CHECK(tz_offset_or(tz, NULL, "Nowhere/Else", 1793000000000LL) == 0, "UTC when nothing is known");
    tz_cache_free(tz);
}

static char *build(const struct mail_in *in, char *err, size_t errlen)
{
    struct buf b;
    util_buf_init(&b, MAIL_MAX);
    if (mail_build(in, &b, err, errlen) != 0) {
        util_buf_free(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

/* Every line ends in CRLF and is at most LIMIT octets (998 by RFC 5322;
 * nudged keeps bodies to 76 and folds headers). */
static int lines_ok(const char *msg, size_t limit)
{
    const char *p = msg;
    while (*p) {
        const char *nl = strstr(p, "\r\n");
        if (nl == NULL || memchr(p, '\n', (size_t)(nl - p)) || (size_t)(nl - p) > limit)
            return 0;
        p = nl + 2;
    }
    return 1;
}

/* Decodes every "=?UTF-8?B?...?=" of HEADER (up to the blank line) and
 * concatenates them. */
static void decode_words(const char *msg, const char *header, char *out, size_t outlen)
{
    const char *p = strstr(msg, header), *end = strstr(msg, "\r\n\r\n");
    size_t n = 0;
    out[0] = '\0';
    while (p && (p = strstr(p, "=?UTF-8?B?")) && p < end) {
        p += 10;
        const char *q = strstr(p, "?=");
        unsigned char dec[200];
        int len = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)(q - p));
        while (len > 0 && q[-1] == '=' && q - p > 0) { /* padding decodes as zero bytes */
            len--;
            q--;
        }
        if (len > 0 && n + (size_t)len < outlen) {
            memcpy(out + n, dec, (size_t)len);
            n += (size_t)len;
            out[n] = '\0';
        }
        p = strstr(p, "?=") + 2;
    }
}

static void test_mail(void)
{
    char err[300], subject[4096] = "", decoded[4096];
    struct mail_in in = {"Winkel <shop@example.nl>",
                         "zoe@example.nl",
                         NULL,
                         "Welkom, Zoë!",
                         "Hallo Zoë = ok\n.hidden\nend \n",
                         NULL,
                         "msg_abc",
                         "https://shop.example/u?c=zoe",
                         1795000000000LL};
    char *m = build(&in, err, sizeof err);
    CHECK(m != NULL, "simple mail builds: %s", err);
    if (m) {
        CHECK(strstr(m, "From: Winkel <shop@example.nl>\r\nTo: zoe@example.nl\r\n") != NULL, "from, to: %s", m);
        CHECK(strstr(m, "Subject: =?UTF-8?B?V2Vsa29tLCBab8OrIQ==?=\r\n") != NULL, "encoded subject: %s", m);
        CHECK(strstr(m, "Date: Wed, 18 Nov 2026 11:06:40 +0000\r\n") != NULL, "date");
        CHECK(strstr(m, "Message-ID: <msg_abc@example.nl>\r\nMIME-Version: 1.0\r\n") != NULL, "message-id");
        CHECK(strstr(m, "List-Unsubscribe: <https://shop.example/u?c=zoe>\r\nList-Unsubscribe-Post: "
                        "List-Unsubscribe=One-Click\r\n") != NULL,
              "list-unsubscribe");
        CHECK(strstr(m, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable") !=
                  NULL,
              "text part");
        CHECK(strstr(m, "\r\n\r\nHallo Zo=C3=AB =3D ok\r\n=2Ehidden\r\nend=20\r\n") != NULL, "qp body: %s", m);
        CHECK(lines_ok(m, 998), "line ends and lengths");
        free(m);
    }
    /* A long German subject: folded encoded-words that never split a character. */
    for (int i = 0; i < 60; i++)
        strcat(subject, "Jürgen ");
    char body[6000];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    in.subject = subject;
    in.text = body;
    in.html = "<p>Hallo Jürgen</p>";
    m = build(&in, err, sizeof err);
    CHECK(m != NULL, "long mail builds: %s", err);
    if (m) {
        decode_words(m, "Subject: ", decoded, sizeof decoded);
        CHECK(strcmp(decoded, subject) == 0, "the subject decodes back: %s", decoded);
        CHECK(lines_ok(m, 78), "no line over 78 octets, headers folded");
        CHECK(strstr(m, "Content-Type: multipart/alternative; boundary=\"=_nudged_msg_abc\"\r\n") != NULL, "multipart");
        CHECK(strstr(m, "\r\n--=_nudged_msg_abc\r\nContent-Type: text/html; charset=utf-8") != NULL, "html part");
        CHECK(strstr(m, "<p>Hallo J=C3=BCrgen</p>") != NULL, "html qp");
        CHECK(strstr(m, "\r\n--=_nudged_msg_abc--\r\n") != NULL, "closing boundary");
        free(m);
    }
    /* Injection attempts in every header a template can reach, and bad addresses. */
    static const struct {
        const char *field, *value, *want;
    } bad[] = {
        {"subject", "Hi\r\nBcc: evil@x.test", "subject carries a control character"},
        {"to", "zoe@example.nl\r\nBcc: evil@x.test", "to carries a control character"},
        {"to", "zoe@example.nl, evil@x.test", "to is not one valid address"},
        {"to", "Zoë <zoe@example.nl>", "to is not one valid address"},
        {"to", "zoe@localhost", "to is not one valid address"},
        {"to", "", "to is not one valid address"},
        {"from", "shop@example.nl\nBcc: evil@x.test", "from carries a control character"},
        {"from", "Shop <shop@example.nl> x", "From is not one valid address"},
        {"reply_to", "help@example.nl\r", "reply_to carries a control character"},
        {"unsubscribe", "https://x.test/\r\nX: y", "unsubscribe_url carries a control character"},
        {"from", "", "no sender"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mail_in b = {"shop@example.nl", "zoe@example.nl", NULL, "Hi", "text", NULL, "msg_x", NULL, 0};
        const char **f = strcmp(bad[i].field, "subject") == 0    ? &b.subject
                         : strcmp(bad[i].field, "to") == 0       ? &b.to
                         : strcmp(bad[i].field, "from") == 0     ? &b.from
                         : strcmp(bad[i].field, "reply_to") == 0 ? &b.reply_to
                                                                 : &b.unsubscribe;
        *f = bad[i].value;
        m = build(&b, err, sizeof err);
        CHECK(m == NULL && strstr(err, bad[i].want) != NULL, "bad %s \"%s\": want \"%s\", got \"%s\"", bad[i].field,
              bad[i].value, bad[i].want, m ? "(built)" : err);
        free(m);
    }
    CHECK(mail_address_valid("a.b+tag@mail.example.co.uk"), "a plain address is valid");
}

/* Feeds BYTES to READER; returns the reply it completes, or NULL. */
static redisReply *feed(redisReader *reader, const char *bytes, size_t len)
{
    void *reply = NULL;
    CHECK(redisReaderFeed(reader, bytes, len) == REDIS_OK, "arena: feed");
    CHECK(redisReaderGetReply(reader, &reply) == REDIS_OK, "arena: parse: %s", reader->errstr);
    return reply;
}

/* Replies built in the arena read as hiredis's own; a reply arriving in
 * pieces, one larger than a chunk, replies after a reset, and a reader
 * freed with a reply half read (LeakSanitizer and the poisoning under
 * AddressSanitizer check the memory). */
static void test_reply_arena(void)
{
    struct rarena *a = rarena_new();
    redisReader *reader = redisReaderCreate();
    rarena_attach(a, reader);
    const char nested[] = "*4\r\n$5\r\nhello\r\n:-42\r\n*2\r\n$-1\r\n+OK\r\n*0\r\n";
    CHECK(feed(reader, nested, 20) == NULL, "arena: half a reply is not a reply");
    redisReply *r = feed(reader, nested + 20, sizeof nested - 1 - 20);
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 4, "arena: the outer array");
    if (r && r->elements == 4) {
        CHECK(r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 5, "arena: a string");
        CHECK_STR(r->element[0]->str, "hello", "arena: its bytes");
        CHECK(r->element[1]->type == REDIS_REPLY_INTEGER && r->element[1]->integer == -42, "arena: an integer");
        CHECK(r->element[2]->elements == 2 && r->element[2]->element[0]->type == REDIS_REPLY_NIL &&
                  r->element[2]->element[1]->type == REDIS_REPLY_STATUS,
              "arena: nil and status inside an inner array");
        CHECK(r->element[3]->type == REDIS_REPLY_ARRAY && r->element[3]->elements == 0, "arena: an empty array");
    }
    reader->fn->freeObject(r);
    for (int round = 0; round < 3; round++) {
        /* 3,000 strings of 100 bytes: several chunks, then freed and reused */
        size_t n = 3000, cap = 16 + n * 120, len = 0;
        char *big = util_xmalloc(cap);
        len += (size_t)snprintf(big + len, cap - len, "*%zu\r\n", n);
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(big + len, cap - len, "$100\r\n%0100zu\r\n", i + (size_t)round);
        r = feed(reader, big, len);
        CHECK(r && r->elements == n, "arena: a large reply (round %d)", round);
        if (r && r->elements == n) {
            char want[101];
            snprintf(want, sizeof want, "%0100zu", n - 1 + (size_t)round);
            CHECK_STR(r->element[n - 1]->str, want, "arena: its last string");
        }
        reader->fn->freeObject(r);
        free(big);
    }
    r = feed(reader, "-ERR no\r\n", 9);
    CHECK(r && r->type == REDIS_REPLY_ERROR, "arena: an error reply");
    CHECK_STR(r ? r->str : "", "ERR no", "arena: its text");
    reader->fn->freeObject(r);
    CHECK(feed(reader, "*2\r\n$1\r\na\r\n", 11) == NULL, "arena: a reply cut short");
    redisReaderFree(reader); /* frees the half-read reply */
    rarena_free(a);
}

/* The n-th event of a person runs in round n; ids merged in the batch are
 * one person, also when the merge comes after some of their events. */
static void test_rounds(void)
{
    static const struct {
        const char *customer, *merge_from;
        bool valid;
        unsigned round;
    } cases[] = {
        {"ann", NULL, true, 0},     {"bob", NULL, true, 0},    {"ann", NULL, true, 1},  {"anon-1", NULL, true, 2},
        {"ann", "anon-1", true, 3}, {"anon-1", NULL, true, 4}, {"cid", NULL, false, 0}, {"cid", NULL, true, 0},
    };
    size_t n = sizeof cases / sizeof cases[0];
    struct entry e[sizeof cases / sizeof cases[0]];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < n; i++) {
        e[i].m.customer = cases[i].customer;
        e[i].m.merge_from = cases[i].merge_from;
        e[i].valid = cases[i].valid;
    }
    CHECK(rounds_assign(e, n) == 5, "five rounds for the five events of ann and anon-1");
    for (size_t i = 0; i < n; i++)
        CHECK(e[i].round == cases[i].round, "entry %zu (%s) belongs in round %u, is in %u", i, cases[i].customer,
              cases[i].round, e[i].round);
    CHECK(rounds_assign(e, 0) == 1, "an empty batch takes one round");
}

static void test_host_keys(void)
{
    static const struct {
        const char *url, *key;
    } cases[] = {
        {"http://Hooks.Example.COM/x?y=1", "hooks.example.com:80"},
        {"https://hooks.example.com", "hooks.example.com:443"},
        {"HTTPS://hooks.example.com:8443/a/b", "hooks.example.com:8443"},
        {"http://user:p%40ss@h.example:81/", "h.example:81"},
        {"http://a@b@c.example/", "c.example:80"},
        {"http://[::1]:8080/hook", "[::1]:8080"},
        {"http://[::1]/hook", "[::1]:80"},
        {"http://127.0.0.1:9000#frag", "127.0.0.1:9000"},
        {"http://h.example?q=a:b@c", "h.example:80"},
        {"smtp://mail.example", "mail.example:25"},
        {"smtps://mail.example", "mail.example:465"},
        {"gopher://g.example", "g.example:"},
        {"no-scheme", "no-scheme"},
    };
    char key[HOSTQ_KEY_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hostq_key(cases[i].url, key);
        CHECK_STR(key, cases[i].key, cases[i].url);
    }
    char url[600] = "http://";
    memset(url + 7, 'a', 500);
    url[507] = '\0';
    hostq_key(url, key);
    CHECK(strlen(key) == HOSTQ_KEY_MAX - 1, "a host too long for a key is cut to fit: %zu", strlen(key));
}

/* Two transfers at once a host, the rest in order; hosts apart; a waiting
 * one taken out; a host forgotten once idle (ASan would see it leak). */
static void test_host_queue(void)
{
    struct hostq *q = hostq_new(2);
    int t[6];
    const char *a = "a:80", *b = "b:80";
    CHECK(hostq_admit(q, a, &t[0]) && hostq_admit(q, a, &t[1]), "the first two of a host start");
    CHECK(!hostq_admit(q, a, &t[2]) && !hostq_admit(q, a, &t[3]) && !hostq_admit(q, a, &t[4]),
          "the third and later wait");
    CHECK(hostq_admit(q, b, &t[5]), "another host is not held up");
    CHECK(hostq_running(q, a) == 2 && hostq_waiting(q, a) == 3, "a: 2 running, 3 waiting, got %zu, %zu",
          hostq_running(q, a), hostq_waiting(q, a));
    CHECK(hostq_cancel(q, a, &t[3]), "a waiting transfer can be taken out");
    CHECK(!hostq_cancel(q, a, &t[3]) && !hostq_cancel(q, a, &t[0]), "only a waiting one, and once");
    CHECK(hostq_next(q, a) == &t[2], "the first waiting takes the turn");
    CHECK(hostq_next(q, a) == &t[4], "then the next, skipping the one taken out");
    CHECK(hostq_running(q, a) == 2 && hostq_waiting(q, a) == 0, "turns passed keep two running");
    CHECK(hostq_next(q, a) == NULL && hostq_next(q, a) == NULL, "nothing waits");
    CHECK(hostq_running(q, a) == 0, "and nothing runs: %zu", hostq_running(q, a));
    CHECK(hostq_next(q, a) == NULL && hostq_running(q, a) == 0, "an end too many changes nothing");
    CHECK(hostq_admit(q, a, &t[0]), "an idle host starts again at once");
    CHECK(hostq_next(q, "c:80") == NULL && !hostq_cancel(q, "c:80", &t[0]), "an unknown host has nothing");
    /* Many hosts, chained in the buckets, each its own count. */
    char key[32];
    int wrong = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "h%d:80", i);
        wrong += !(hostq_admit(q, key, &t[0]) && hostq_admit(q, key, &t[1]) && !hostq_admit(q, key, &t[2]));
    }
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "h%d:80", i);
        wrong += !(hostq_next(q, key) == &t[2] && hostq_waiting(q, key) == 0 && hostq_running(q, key) == 2);
    }
    CHECK(wrong == 0, "300 hosts: two start and the third waits for each, then takes its turn: %d wrong", wrong);
    hostq_free(q); /* frees what still runs or waits: b, a and every h */
}

int main(void)
{
    test_host_keys();
    test_host_queue();
    test_rounds();
    test_reply_arena();
    test_mail();
    test_timezones();
    test_signature_vector();
    test_signature_keys();
    test_headers();
    test_config();
    test_ids();
    test_i64();
    test_dedup_hash_spread();
    test_cmd_pieces();
    return harness_summary("test_daemon");
}
