/* webhook.c — sign and head a webhook as Standard Webhooks says.
 *
 * The signature covers the exact bytes sent, and the timestamp is the
 * attempt's own, so each retry is signed again with the same webhook-id.
 */
#include "webhook.h"
#include "util.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keyed HMAC-SHA256 contexts kept per secret. OpenSSL 3's one-shot HMAC()
 * fetches the algorithm and sets the key on every call, which costs about
 * as much as the signature itself; a kept context is only started again
 * with its key. A trigger file has few secrets (one per endpoint, as
 * a rule), so a small table scanned by key is enough; past SIGNER_KEYS
 * secrets in use, the slots are reused in turn. */
#define SIGNER_KEYS 16

struct signer_key {
    unsigned char *key; /* a copy, wiped when the slot is reused */
    size_t len;
    EVP_MAC_CTX *ctx;
};

struct webhook_signer {
    EVP_MAC *hmac;
    struct signer_key keys[SIGNER_KEYS];
    size_t next; /* the slot a new secret takes when all are used */
};

struct webhook_signer *webhook_signer_new(void)
{
    struct webhook_signer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (s->hmac == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

static void key_clear(struct signer_key *k)
{
    if (k->key)
        OPENSSL_clear_free(k->key, k->len);
    EVP_MAC_CTX_free(k->ctx);
    memset(k, 0, sizeof *k);
}

void webhook_signer_free(struct webhook_signer *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < SIGNER_KEYS; i++)
        key_clear(&s->keys[i]);
    EVP_MAC_free(s->hmac);
    free(s);
}

/* The context for KEY, started for a new message; NULL when OpenSSL fails. */
static EVP_MAC_CTX *keyed(struct webhook_signer *s, const unsigned char *key, size_t len)
{
    for (size_t i = 0; i < SIGNER_KEYS; i++) {
        struct signer_key *k = &s->keys[i];
        if (k->ctx && k->len == len && CRYPTO_memcmp(k->key, key, len) == 0)
            return EVP_MAC_init(k->ctx, NULL, 0, NULL) ? k->ctx : NULL; /* NULL key: the one it holds */
    }
    struct signer_key *k = &s->keys[s->next];
    s->next = (s->next + 1) % SIGNER_KEYS;
    key_clear(k);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    k->ctx = EVP_MAC_CTX_new(s->hmac);
    k->key = OPENSSL_malloc(len ? len : 1);
    if (k->ctx == NULL || k->key == NULL || !EVP_MAC_init(k->ctx, key, len, params)) {
        key_clear(k);
        return NULL;
    }
    memcpy(k->key, key, len);
    k->len = len;
    return k->ctx;
}

int webhook_sign(struct webhook_signer *s, const unsigned char *key, size_t keylen, const char *id, long long ts,
                 const char *body, char out[WEBHOOK_SIG_MAX])
{
    char prefix[320];
    int n = snprintf(prefix, sizeof prefix, "%s.%lld.", id, ts);
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    EVP_MAC_CTX *ctx = s ? keyed(s, key, keylen) : NULL;
    out[0] = '\0';
    if (n < 0 || (size_t)n >= sizeof prefix || ctx == NULL ||
        !EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)n) ||
        !EVP_MAC_update(ctx, (const unsigned char *)body, strlen(body)) ||
        !EVP_MAC_final(ctx, mac, &maclen, sizeof mac))
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
    return 0;
}

/* Appends S to the line BUF of CAP bytes at *N, cut to fit with its NUL. */
static void put(char *buf, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    memcpy(buf + *n, s, len);
    *n += len;
    buf[*n] = '\0';
}

/* Appends "NAME: VALUE" (or NAME alone when VALUE is NULL); on failure
 * frees the list and returns NULL, so calls can be chained. The line is
 * built by hand: this runs for every header of every webhook, where
 * snprintf's format parsing is a measurable share of a delivery. */
static struct curl_slist *add(struct curl_slist *list, const char *name, const char *value)
{
    char line[8192];
    size_t n = 0;
    put(line, sizeof line, &n, name);
    if (value) {
        put(line, sizeof line, &n, ": ");
        put(line, sizeof line, &n, value);
    }
    struct curl_slist *l = curl_slist_append(list, line);
    if (l == NULL)
        curl_slist_free_all(list);
    return l;
}

struct curl_slist *webhook_headers(struct webhook_signer *signer, const char *id, long long ts,
                                   const unsigned char *key, size_t keylen, const char *body, const char *headers_json)
{
    char tsbuf[UTIL_I64_LEN], sig[WEBHOOK_SIG_MAX];
    /* Most triggers add no headers ("{}", the delivery's default): no parse. */
    bool none = headers_json == NULL || strcmp(headers_json, "{}") == 0;
    json_t *custom = none ? NULL : json_loads(headers_json, 0, NULL); /* NULL iterates as empty */
    if (!none && !json_is_object(custom)) {
        json_decref(custom);
        return NULL;
    }
    struct curl_slist *l = add(NULL, "content-type", "application/json");
    l = l ? add(l, "user-agent", "nudged/" NUDGED_VERSION) : NULL;
    l = l ? add(l, "webhook-id", id) : NULL;
    l = l ? add(l, "webhook-timestamp", util_i64(tsbuf, ts)) : NULL;
    if (l && key) {
        if (webhook_sign(signer, key, keylen, id, ts, body, sig) != 0) {
            curl_slist_free_all(l); /* unsigned, a receiver would reject it: the delivery is retried */
            l = NULL;
        } else {
            l = add(l, "webhook-signature", sig);
        }
    }
    /* curl would otherwise send "Expect: 100-continue" for larger bodies. */
    l = l ? add(l, "Expect:", NULL) : NULL;
    const char *name;
    json_t *v;
    json_object_foreach(custom, name, v)
    {
        if (l && json_is_string(v))
            l = add(l, name, json_string_value(v));
    }
    json_decref(custom);
    return l;
}
