/* http.h — HTTP requests and SMTP sends through libcurl's multi interface, driven by the
 * libevent loop (curl's hiperfifo model): nothing here ever blocks. */
#ifndef NUDGED_HTTP_H
#define NUDGED_HTTP_H

#include <curl/curl.h>
#include <event2/event.h>
#include <stddef.h>

struct http;

struct http_result {
    long status;        /* HTTP status, 0 when none came */
    CURLcode code;      /* CURLE_OK, or why the transfer failed */
    const char *error;  /* readable, borrowed for the callback */
    long retry_after_s; /* Retry-After of a 429/503, else -1 */
    double seconds;     /* total transfer time */
};

typedef void http_done_fn(const struct http_result *res, void *data);

/* Creates the client on BASE; MAX_TOTAL and PER_HOST cap connections.
 * Returns NULL when curl cannot be set up. */
struct http *http_new(struct event_base *base, long max_total, long per_host);

/* Starts a request. URL, METHOD and BODY are copied; HEADERS is taken over
 * (freed when the transfer ends). DONE(res, DATA) runs exactly once, from
 * the loop, unless http_free runs first. Returns 0 or -1 (then nothing runs
 * and HEADERS is freed). */
int http_request(struct http *h, const char *url, const char *method, struct curl_slist *headers, const char *body,
                 long timeout_ms, http_done_fn *done, void *data) __attribute__((warn_unused_result));

/* One email to send over SMTP; every string is copied. */
struct http_mail {
    const char *url;             /* smtp://host:port or smtps://host:port */
    const char *from, *to;       /* bare addresses for MAIL FROM and RCPT TO */
    const char *message;         /* the whole RFC 5322 message */
    const char *user, *password; /* NULL: no AUTH */
    long use_ssl;                /* CURLUSESSL_NONE, _TRY or _ALL (STARTTLS policy) */
    long timeout_ms;
};

/* Starts sending M on the same loop and connection caps as HTTP; DONE runs
 * once as for http_request, with the last SMTP reply code as status.
 * Returns 0 or -1 (then nothing runs). */
int http_send_mail(struct http *h, const struct http_mail *m, http_done_fn *done, void *data)
    __attribute__((warn_unused_result));

/* Aborts every transfer (their callbacks do not run) and frees H. */
void http_free(struct http *h);

#endif
