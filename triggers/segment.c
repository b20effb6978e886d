/* segment.c — a Segment tracking-API request body into stored messages
 * (see segment.h). Every message is checked by message_validate, the same
 * rule the consumer applies, so what the collector accepts the daemon can
 * use, and a refusal reaches the client instead of the rejected stream. */
#include "segment.h"
#include "jparse.h"
#include "jspan.h"
#include "message.h"
#include "shard.h"
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
    r->shards[r->n] = shard_of(m.customer, rq->shards); /* the message keep adds next */
    return 200;
}

/* The members nudged writes itself: cut from the client's text and written
 * anew from MSG (writeKey only cut). context and integrations only when the
 * batch had its own to merge in. */
static bool cut(const struct jspan *key, const struct batch_parts *bp)
{
    static const char *const always[] = {"type", "receivedAt", "timestamp", "messageId", "writeKey"};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (key->n == strlen(always[i]) && memcmp(key->p, always[i], key->n) == 0)
            return true;
    return (json_is_object(bp->context) && key->n == 7 && memcmp(key->p, "context", 7) == 0) ||
           (json_is_object(bp->integrations) && key->n == 12 && memcmp(key->p, "integrations", 12) == 0);
}

/* Appends ,"KEY":value of MSG's KEY (nothing when absent). A string with
 * nothing to escape, as nudged's own are, is written as it is. */
static int add_member(struct buf *b, json_t *msg, const char *key)
{
    json_t *v = json_object_get(msg, key);
    if (v == NULL)
        return 0;
    int rc = util_buf_add(b, ",\"", 2) | util_buf_adds(b, key) | util_buf_add(b, "\":", 2);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i = 0;
    while (s && i < n && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
        i++;
    if (s && i == n)
        return rc | util_buf_add(b, "\"", 1) | util_buf_add(b, s, n) | util_buf_add(b, "\"", 1);
    char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dump == NULL)
        util_fatal("out of memory serialising a message");
    rc |= util_buf_adds(b, dump);
    free(dump);
    return rc;
}

#define SPLICE_MEMBERS 64

/* A message's own text, and its members' spans when the parser noted them
 * (M NULL: scan the text for them). SHALLOW: the message was read shallowly
 * (its objects stand empty), so it must be stored from this text or the
 * request read whole. */
struct msg_text {
    struct jspan whole;
    const struct jspan_member *m;
    int n;
    bool shallow;
};

/* MSG as the client's own TEXT with nudged's members written anew, into B:
 * what json_dumps would give, without serialising what nudged did not
 * change (most of a message: its properties and context). 0; 1 when TEXT
 * cannot be spliced (a key with an escape, too many members: the caller
 * serialises MSG); -1 past B's maximum. */
static int splice(json_t *msg, const struct msg_text *text, const struct batch_parts *bp, struct buf *b)
{
    struct jspan_member scanned[SPLICE_MEMBERS];
    const struct jspan_member *m = text->m;
    int n = text->n, rc = util_buf_add(b, "{\"type\":", 8);
    if (m == NULL) {
        m = scanned;
        n = jspan_members(text->whole.p, text->whole.n, scanned, SPLICE_MEMBERS);
    }
    if (n < 0)
        return 1;
    const char *type = json_string_value(json_object_get(msg, "type"));
    rc |= util_buf_add(b, "\"", 1) | util_buf_adds(b, type ? type : "") | util_buf_add(b, "\"", 1);
    for (int i = 0; i < n; i++) {
        if (!m[i].raw_key)
            return 1;
        if (cut(&m[i].key, bp))
            continue;
        const char *from = m[i].key.p - 1;
        rc |= util_buf_add(b, ",", 1) | util_buf_add(b, from, (size_t)(m[i].value.p + m[i].value.n - from));
    }
    rc |= add_member(b, msg, "receivedAt") | add_member(b, msg, "timestamp") | add_member(b, msg, "messageId");
    if (json_is_object(bp->context))
        rc |= add_member(b, msg, "context");
    if (json_is_object(bp->integrations))
        rc |= add_member(b, msg, "integrations");
    rc |= util_buf_add(b, "}", 1);
    return rc ? -1 : 0;
}

/* Keeps MSG as the request's next message: spliced from its TEXT when it
 * has one, else serialised; 413 past the limit; -1 when a shallow message
 * cannot be spliced (the caller reads the request whole). */
static int keep(json_t *msg, const struct msg_text *text, const struct batch_parts *bp, const char *where,
                struct segment_result *r)
{
    struct buf b;
    util_buf_init(&b, SEGMENT_MESSAGE_MAX);
    if (text)
        util_buf_reserve(&b, text->whole.n + 160); /* what nudged adds: type, receivedAt, timestamp, messageId */
    int rc = text ? splice(msg, text, bp, &b) : 1;
    if (rc == 1 && text && text->shallow) {
        util_buf_free(&b);
        return -1;
    }
    if (rc == 1) {
        char *s = json_dumps(msg, JSON_COMPACT);
        if (s == NULL)
            util_fatal("out of memory serialising a message");
        util_buf_free(&b);
        util_buf_init(&b, SEGMENT_MESSAGE_MAX);
        rc = util_buf_adds(&b, s);
        free(s);
    }
    if (rc != 0) {
        util_buf_free(&b);
        return fail(r, 413, "too_large", "%sa message is at most %d bytes as stored", where, SEGMENT_MESSAGE_MAX);
    }
    r->lens[r->n] = b.len;
    r->messages[r->n++] = util_buf_steal(&b);
    return 200;
}

/* The body's members into M (how many: the return, -1 when it cannot be
 * split) and, in the same pass, the spans of its batch's messages (*N of
 * them, -1 when there are more than the limit or no batch array), which
 * the caller frees. */
static int batch_spans(const struct segment_request *rq, struct jspan_member *m, struct jspan **spans, int *n)
{
    *spans = util_xcalloc(SEGMENT_BATCH_COUNT + 1, sizeof **spans);
    int k = jspan_members_elements(rq->body, rq->len, m, SPLICE_MEMBERS, "batch", *spans, SEGMENT_BATCH_COUNT + 1, n);
    for (int i = 0; i < k; i++)
        if (!m[i].raw_key)
            k = -1;
    return k;
}

static void take_write_key(json_t *body, struct segment_result *r)
{
    const char *k = json_string_value(json_object_get(body, "writeKey"));
    if (k)
        r->write_key = util_xstrdup(k);
}

static int parse_one(json_t *body, bool shallow, const struct segment_request *rq, struct segment_result *r)
{
    struct msg_text text = {{rq->body, rq->len}, NULL, -1, shallow};
    r->messages = util_xcalloc(1, sizeof *r->messages);
    r->lens = util_xcalloc(1, sizeof *r->lens);
    r->shards = util_xcalloc(1, sizeof *r->shards);
    /* The path sets the type, as in Segment's HTTP API. */
    json_object_set_new(body, "type", json_string(message_type_name((enum message_type)rq->type)));
    struct batch_parts none = {NULL, NULL, NULL};
    if (normalise(body, 0, &none, rq, "", r) != 200)
        return r->status;
    return keep(body, &text, &none, "", r);
}

/* Message I of a batch (a new reference, or NULL when this way of reading
 * cannot take it) with its text into T. */
typedef json_t *message_fn(void *ctx, size_t i, struct msg_text *t);

/* The N messages of a batch, as GET gives them; -1 when GET gave up. */
static int each_message(message_fn *get, void *ctx, size_t n, const struct batch_parts *bp,
                        const struct segment_request *rq, struct segment_result *r)
{
    int status = 200;
    r->messages = util_xcalloc(n ? n : 1, sizeof *r->messages);
    r->lens = util_xcalloc(n ? n : 1, sizeof *r->lens);
    r->shards = util_xcalloc(n ? n : 1, sizeof *r->shards);
    for (size_t i = 0; i < n && status == 200; i++) {
        struct msg_text text = {{NULL, 0}, NULL, -1, false};
        json_t *msg = get(ctx, i, &text);
        char where[40];
        snprintf(where, sizeof where, "batch[%zu]: ", i);
        if (msg == NULL)
            status = -1;
        else if (!json_is_object(msg))
            status = fail(r, 400, "invalid_message", "%sa message must be a JSON object", where);
        else if (json_object_get(msg, "type") == NULL)
            status =
                fail(r, 400, "invalid_message", "%stype is missing: each message of a batch names its type", where);
        else if (normalise(msg, i, bp, rq, where, r) != 200)
            status = r->status;
        else
            status = keep(msg, text.whole.p ? &text : NULL, bp, where, r);
        json_decref(msg);
    }
    return status;
}

/* The batch read whole: its messages from the array, their texts from the
 * body when it can be split. */
struct whole_batch {
    json_t *batch;
    struct jspan *spans; /* NULL: serialise each message */
};

static json_t *whole_message(void *ctx, size_t i, struct msg_text *t)
{
    struct whole_batch *wb = ctx;
    if (wb->spans)
        t->whole = wb->spans[i];
    return json_incref(json_array_get(wb->batch, i));
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
    struct jspan_member m[SPLICE_MEMBERS];
    int count = -1;
    struct whole_batch wb = {batch, NULL};
    if (batch_spans(rq, m, &wb.spans, &count) < 0 || count != (int)n) {
        free(wb.spans);
        wb.spans = NULL;
    }
    int status = each_message(whole_message, &wb, n, &bp, rq, r);
    free(wb.spans);
    return status;
}

/* The batch read shallowly: each message's top level built as it comes
 * (jparse_shallow, which notes where its members are), everything inside
 * checked and not built, and the message stored from its own text. */
struct shallow_batch {
    const struct jspan *spans;
    struct jspan_member m[SPLICE_MEMBERS]; /* the current message's */
};

static json_t *shallow_message(void *ctx, size_t i, struct msg_text *t)
{
    struct shallow_batch *sb = ctx;
    int n = -1;
    json_t *msg = jparse_shallow(sb->spans[i].p, sb->spans[i].n, sb->m, SPLICE_MEMBERS, &n);
    *t = (struct msg_text){sb->spans[i], n >= 0 ? sb->m : NULL, n, true};
    return msg;
}

/* -1 when this way cannot be taken (a batch-wide context or integrations
 * to merge in, anything jparse leaves to jansson, a limit passed): the
 * caller then reads the whole body. */
static int parse_batch_shallow(json_t *top, struct jspan *spans, int n, const struct segment_request *rq,
                               struct segment_result *r)
{
    struct batch_parts bp = {json_object_get(top, "context"), json_object_get(top, "integrations"),
                             json_object_get(top, "sentAt")};
    if (!json_is_array(json_object_get(top, "batch")) || json_is_object(bp.context) ||
        json_is_object(bp.integrations) || n < 0 || n > SEGMENT_BATCH_COUNT)
        return -1;
    struct shallow_batch *sb = util_xcalloc(1, sizeof *sb);
    sb->spans = spans;
    take_write_key(top, r);
    int status = each_message(shallow_message, sb, (size_t)n, &bp, rq, r);
    free(sb);
    return status;
}

/* The top level of a batch request without its "batch" member, read
 * shallowly: the members beside the messages (writeKey, sentAt, context),
 * checked once; the messages are each checked on their own. M holds the
 * K members batch_spans found, all with raw keys. NULL when this way
 * cannot be taken. */
static json_t *batch_top(const struct segment_request *rq, const struct jspan_member *m, int k)
{
    struct buf b;
    int rc = 0;
    bool first = true;
    util_buf_init(&b, rq->len + 2);
    rc |= util_buf_add(&b, "{", 1);
    for (int i = 0; i < k; i++) {
        if (m[i].key.n != 5 || memcmp(m[i].key.p, "batch", 5) != 0) {
            const char *from = m[i].key.p - 1;
            rc |= util_buf_add(&b, ",", first ? 0 : 1) |
                  util_buf_add(&b, from, (size_t)(m[i].value.p + m[i].value.n - from));
            first = false;
        }
    }
    rc |= util_buf_add(&b, "}", 1);
    json_t *top = rc == 0 ? jparse_shallow(b.data, b.len, NULL, 0, NULL) : NULL;
    util_buf_free(&b);
    if (top)
        json_object_set_new(top, "batch", json_array()); /* its place: checked by batch_spans and each message */
    return top;
}

/* The request read shallowly; -1: read the whole body instead. */
static int parse_shallow(const struct segment_request *rq, struct segment_result *r)
{
    struct jspan_member m[SPLICE_MEMBERS];
    struct jspan *spans = NULL;
    int n = -1, k = rq->type >= 0 ? 0 : batch_spans(rq, m, &spans, &n);
    json_t *top = rq->type >= 0 ? jparse_shallow(rq->body, rq->len, NULL, 0, NULL)
                  : k >= 0      ? batch_top(rq, m, k)
                                : NULL;
    int status = -1;
    if (json_is_object(top) && rq->type >= 0) {
        take_write_key(top, r);
        status = parse_one(top, true, rq, r);
    } else if (json_is_object(top)) {
        status = parse_batch_shallow(top, spans, n, rq, r);
    }
    json_decref(top);
    free(spans);
    return status;
}

int segment_parse(const struct segment_request *rq, struct segment_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = 200;
    size_t max = rq->type < 0 ? SEGMENT_BATCH_MAX : SEGMENT_MESSAGE_MAX;
    if (rq->len > max)
        return fail(out, 413, "too_large", "the body is %zu bytes; at most %zu here", rq->len, max);
    int status = parse_shallow(rq, out);
    if (status < 0) { /* whatever the shallow reading kept goes, and the body is read whole */
        segment_result_free(out);
        out->status = 200;
        json_error_t je;
        json_t *body = jparse_loadb(rq->body, rq->len, &je);
        if (body == NULL)
            return fail(out, 400, "invalid_json", "the body is not JSON: line %d, column %d: %s", je.line, je.column,
                        je.text);
        if (!json_is_object(body)) {
            json_decref(body);
            return fail(out, 400, "invalid_json", "the body must be a JSON object");
        }
        take_write_key(body, out);
        status = rq->type < 0 ? parse_batch(body, rq, out) : parse_one(body, false, rq, out);
        json_decref(body);
    }
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
    free(r->shards);
    free(r->write_key);
    memset(r, 0, sizeof *r);
}
