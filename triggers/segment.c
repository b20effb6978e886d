/* segment.c — a Segment tracking-API request body into stored messages
 * (see segment.h). Every message is checked by message_validate, the same
 * rule the consumer applies, so what the collector accepts the daemon can
 * use, and a refusal reaches the client instead of the rejected stream. */
#include "segment.h"
#include "message.h"
#include "util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The batch-wide parts Segment applies to each message of a batch. */
struct batch_parts {
    json_t *context, *integrations, *sent_at; /* borrowed, may be NULL */
};

static int fail(struct segment_result *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct segment_result *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    snprintf(r->code, sizeof r->code, "%s", code);
    r->status = status;
    return status;
}

/* The message's KEY object gets the keys of OUTER it lacks (its own win). */
static void merge_missing(json_t *msg, const char *key, json_t *outer)
{
    json_t *own = json_object_get(msg, key);
    if (!json_is_object(outer))
        return;
    if (own == NULL || json_is_null(own))
        json_object_set_new(msg, key, json_deep_copy(outer));
    else if (json_is_object(own))
        json_object_update_missing(own, outer);
}

/* timestamp = receivedAt - (sentAt - originalTimestamp): the event's time
 * on the client's clock, moved onto ours. Without both ends the message's
 * own timestamp stays. Returns -1 with a reason in ERR. */
static int correct_time(json_t *msg, json_t *batch_sent_at, int64_t now_ms, char *err, size_t errlen)
{
    json_t *sent = json_object_get(msg, "sentAt");
    json_t *orig = json_object_get(msg, "originalTimestamp");
    if (!json_is_string(sent))
        sent = batch_sent_at;
    if (!json_is_string(orig))
        orig = json_object_get(msg, "timestamp");
    if (!json_is_string(sent) || !json_is_string(orig))
        return 0;
    int64_t sent_ms, orig_ms;
    if (message_parse_time(json_string_value(sent), &sent_ms) != 0 ||
        message_parse_time(json_string_value(orig), &orig_ms) != 0) {
        snprintf(err, errlen, "sentAt and originalTimestamp must be ISO-8601 dates and times");
        return -1;
    }
    char iso[40];
    message_format_time(now_ms - (sent_ms - orig_ms), iso, sizeof iso);
    json_object_set_new(msg, "timestamp", json_string(iso));
    return 0;
}

/* Segment's additions to one message, then the consumer's own check.
 * WHERE names the message in errors ("" or "batch[3]: "). */
static int normalise(json_t *msg, size_t i, const struct batch_parts *bp, const struct segment_request *rq,
                     const char *where, struct segment_result *r)
{
    char err[200], iso[40], mid[160];
    struct message m;
    json_object_del(msg, "writeKey"); /* a credential: never stored */
    merge_missing(msg, "context", bp->context);
    merge_missing(msg, "integrations", bp->integrations);
    message_format_time(rq->now_ms, iso, sizeof iso);
    json_object_set_new(msg, "receivedAt", json_string(iso));
    json_t *have = json_object_get(msg, "messageId");
    if (have == NULL || json_is_null(have)) {
        snprintf(mid, sizeof mid, "%.120s-%zu", rq->id_prefix, i);
        json_object_set_new(msg, "messageId", json_string(mid));
    }
    if (correct_time(msg, bp->sent_at, rq->now_ms, err, sizeof err) != 0 ||
        message_validate(msg, "", rq->now_ms, &m, err, sizeof err) != 0)
        return fail(r, 400, "invalid_message", "%s%s", where, err);
    return 200;
}

/* Serialises MSG as the request's next message; 413 past the limit. */
static int keep(json_t *msg, const char *where, struct segment_result *r)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    if (s == NULL)
        util_fatal("out of memory serialising a message");
    size_t len = strlen(s);
    if (len > SEGMENT_MESSAGE_MAX) {
        free(s);
        return fail(r, 413, "too_large", "%sa message is at most %d bytes, this one is %zu", where, SEGMENT_MESSAGE_MAX,
                    len);
    }
    r->messages[r->n] = s;
    r->lens[r->n++] = len;
    return 200;
}

static void take_write_key(json_t *body, struct segment_result *r)
{
    const char *k = json_string_value(json_object_get(body, "writeKey"));
    if (k)
        r->write_key = util_xstrdup(k);
}

static int parse_one(json_t *body, const struct segment_request *rq, struct segment_result *r)
{
    r->messages = util_xcalloc(1, sizeof *r->messages);
    r->lens = util_xcalloc(1, sizeof *r->lens);
    /* The path sets the type, as in Segment's HTTP API. */
    json_object_set_new(body, "type", json_string(message_type_name((enum message_type)rq->type)));
    struct batch_parts none = {NULL, NULL, NULL};
    if (normalise(body, 0, &none, rq, "", r) != 200)
        return r->status;
    return keep(body, "", r);
}

static int parse_batch(json_t *body, const struct segment_request *rq, struct segment_result *r)
{
    json_t *batch = json_object_get(body, "batch");
    if (!json_is_array(batch))
        return fail(r, 400, "invalid_request", "a batch request is {\"batch\": [message, ...]}");
    size_t n = json_array_size(batch);
    if (n > SEGMENT_BATCH_COUNT)
        return fail(r, 413, "too_large", "a batch holds at most %d messages, this one %zu", SEGMENT_BATCH_COUNT, n);
    struct batch_parts bp = {json_object_get(body, "context"), json_object_get(body, "integrations"),
                             json_object_get(body, "sentAt")};
    r->messages = util_xcalloc(n ? n : 1, sizeof *r->messages);
    r->lens = util_xcalloc(n ? n : 1, sizeof *r->lens);
    for (size_t i = 0; i < n; i++) {
        json_t *msg = json_array_get(batch, i);
        char where[40];
        snprintf(where, sizeof where, "batch[%zu]: ", i);
        if (!json_is_object(msg))
            return fail(r, 400, "invalid_message", "%sa message must be a JSON object", where);
        if (json_object_get(msg, "type") == NULL)
            return fail(r, 400, "invalid_message", "%stype is missing: each message of a batch names its type", where);
        if (normalise(msg, i, &bp, rq, where, r) != 200 || keep(msg, where, r) != 200)
            return r->status;
    }
    return 200;
}

int segment_parse(const struct segment_request *rq, struct segment_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = 200;
    size_t max = rq->type < 0 ? SEGMENT_BATCH_MAX : SEGMENT_MESSAGE_MAX;
    if (rq->len > max)
        return fail(out, 413, "too_large", "the body is %zu bytes; at most %zu here", rq->len, max);
    json_error_t je;
    json_t *body = json_loadb(rq->body, rq->len, 0, &je);
    if (body == NULL)
        return fail(out, 400, "invalid_json", "the body is not JSON: line %d, column %d: %s", je.line, je.column,
                    je.text);
    if (!json_is_object(body)) {
        json_decref(body);
        return fail(out, 400, "invalid_json", "the body must be a JSON object");
    }
    take_write_key(body, out);
    int status = rq->type < 0 ? parse_batch(body, rq, out) : parse_one(body, rq, out);
    json_decref(body);
    for (; status != 200 && out->n > 0; out->n--) /* refused whole: nothing of it is kept */
        free(out->messages[out->n - 1]);
    return status;
}

void segment_result_free(struct segment_result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->messages[i]);
    free(r->messages);
    free(r->lens);
    free(r->write_key);
    memset(r, 0, sizeof *r);
}
