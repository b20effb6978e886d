/* webhook.h — Standard Webhooks: the signature and the request headers. */
#ifndef NUDGED_WEBHOOK_H
#define NUDGED_WEBHOOK_H

#include <curl/curl.h>
#include <stddef.h>

#define WEBHOOK_SIG_MAX 64

/* Writes "v1,<base64 HMAC-SHA256(KEY, "ID.TS.BODY")>" to OUT. */
void webhook_sign(const unsigned char *key, size_t keylen, const char *id, long long ts, const char *body,
                  char out[WEBHOOK_SIG_MAX]);

/* The request headers: content-type, user-agent, webhook-id,
 * webhook-timestamp, webhook-signature (when KEY is not NULL), then the
 * trigger's own headers from HEADERS_JSON (an object of strings). Returns a
 * list the caller owns, or NULL when HEADERS_JSON is not such an object. */
struct curl_slist *webhook_headers(const char *id, long long ts, const unsigned char *key, size_t keylen,
                                   const char *body, const char *headers_json);

#endif
