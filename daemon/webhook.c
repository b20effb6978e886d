/* webhook.c — sign and head a webhook as Standard Webhooks says.
 *
 * The signature covers the exact bytes sent, and the timestamp is the
 * attempt's own, so each retry is signed again with the same webhook-id.
 */
#include "webhook.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void webhook_sign(const unsigned char *key, size_t keylen, const char *id, long long ts, const char *body,
                  char out[WEBHOOK_SIG_MAX])
{
    char prefix[320];
    int n = snprintf(prefix, sizeof prefix, "%s.%lld.", id, ts);
    size_t blen = strlen(body);
    unsigned char *msg = malloc((size_t)n + blen);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (msg == NULL) {
        out[0] = '\0';
        return;
    }
    memcpy(msg, prefix, (size_t)n);
    memcpy(msg + n, body, blen);
    HMAC(EVP_sha256(), key, (int)keylen, msg, (size_t)n + blen, mac, &maclen);
    free(msg);
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)maclen);
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
 * built by hand: snprintf cost a tenth of a delivery's own instructions. */
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

struct curl_slist *webhook_headers(const char *id, long long ts, const unsigned char *key, size_t keylen,
                                   const char *body, const char *headers_json)
{
    char tsbuf[24], sig[WEBHOOK_SIG_MAX];
    json_t *custom = json_loads(headers_json ? headers_json : "{}", 0, NULL);
    if (!json_is_object(custom)) {
        json_decref(custom);
        return NULL;
    }
    snprintf(tsbuf, sizeof tsbuf, "%lld", ts);
    struct curl_slist *l = add(NULL, "content-type", "application/json");
    l = l ? add(l, "user-agent", "nudged/" NUDGED_VERSION) : NULL;
    l = l ? add(l, "webhook-id", id) : NULL;
    l = l ? add(l, "webhook-timestamp", tsbuf) : NULL;
    if (l && key) {
        webhook_sign(key, keylen, id, ts, body, sig);
        l = add(l, "webhook-signature", sig);
    }
    /* curl would otherwise send "Expect: 100-continue" for larger bodies. */
    l = l ? add(l, "Expect:", NULL) : NULL;
    const char *name;
    json_t *v;
    json_object_foreach(custom, name, v) {
        if (l && json_is_string(v))
            l = add(l, name, json_string_value(v));
    }
    json_decref(custom);
    return l;
}
