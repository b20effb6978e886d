/* segment.h — Segment's tracking API, the pure half of the collector
 * (SPEC 1.2): one request body into the messages nudged stores, with
 * Segment's semantics (the path's type, a batch's context merged in,
 * receivedAt, messageId, the client clock corrected) and Segment's errors.
 * No I/O and no clock of its own: the collector passes "now". */
#ifndef NUDGED_SEGMENT_H
#define NUDGED_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

/* Segment's limits: a message as stored, a batch request's (inflated)
 * body, and the messages of one batch. */
#define SEGMENT_MESSAGE_MAX (32 * 1024)
#define SEGMENT_BATCH_MAX (500 * 1024)
#define SEGMENT_BATCH_COUNT 2500

/* A request as the collector read it. */
struct segment_request {
    const char *body; /* the (inflated) body, LEN bytes; need not end in NUL */
    size_t len;
    int type;              /* a message_type for a one-message path, -1 for a batch */
    int64_t now_ms;        /* receivedAt */
    const char *id_prefix; /* unique to this request: a message without
                              messageId gets "<id_prefix>-<index>" */
    unsigned shards;       /* [redis] shards: each message's shard is found (shard.h) */
};

/* What the request became. STATUS 200: N messages, each serialised JSON.
 * Else 400 or 413 with Segment's CODE and a MESSAGE that says what to fix. */
struct segment_result {
    int status;
    char code[32];
    char message[256];
    char *write_key; /* the body's writeKey, owned, or NULL */
    char **messages; /* owned, N of them, each NUL-terminated JSON */
    size_t *lens;
    unsigned *shards; /* owned: each message's shard */
    size_t n;
};

/* Parses RQ into OUT (which the caller frees with segment_result_free,
 * whatever the status). A batch with one bad message is refused whole, so
 * a client's retry cannot duplicate the others. Returns OUT->status. */
int segment_parse(const struct segment_request *rq, struct segment_result *out);

void segment_result_free(struct segment_result *r);

#endif
