/* test_webhook.c — Standard Webhooks: the signature vector, keyed contexts, headers. */
#include "harness.h"
#include "webhook.h"
#include <openssl/hmac.h>

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

int main(void)
{
    test_signature_vector();
    test_signature_keys();
    test_headers();
    return harness_summary("test_webhook");
}
