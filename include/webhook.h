/* webhook.h — Standard Webhooks: the signature and the request headers. */
#ifndef NUDGED_WEBHOOK_H
#define NUDGED_WEBHOOK_H

#include <curl/curl.h>
#include <stddef.h>

#define WEBHOOK_SIG_MAX 64

/* Signs webhooks with HMAC-SHA256, each secret keyed once and kept. */
struct webhook_signer;

/* NULL when OpenSSL has no HMAC. */
struct webhook_signer *webhook_signer_new(void);
void webhook_signer_free(struct webhook_signer *s);

/* Writes "v1,<base64 HMAC-SHA256(KEY, "ID.TS.BODY")>" to OUT; -1 (OUT
 * empty) when OpenSSL fails or ID is too long. */
int webhook_sign(struct webhook_signer *s, const unsigned char *key, size_t keylen, const char *id, long long ts,
                 const char *body, char out[WEBHOOK_SIG_MAX]);

/* The request headers: content-type, user-agent, webhook-id,
 * webhook-timestamp, webhook-signature (when KEY is not NULL, by SIGNER),
 * then the trigger's own headers from HEADERS_JSON (an object of strings).
 * Returns a list the caller owns, or NULL when HEADERS_JSON is not such an
 * object or the signature failed. */
struct curl_slist *webhook_headers(struct webhook_signer *signer, const char *id, long long ts,
                                   const unsigned char *key, size_t keylen, const char *body, const char *headers_json);

#endif
