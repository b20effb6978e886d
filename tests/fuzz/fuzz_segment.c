/* fuzz_segment.c — libFuzzer target: any bytes as a collector request body,
 * a batch and a track. segment_parse must answer 200, 400 or 413; on 200,
 * every message it keeps must be one JSON object that jansson reads and
 * message_validate accepts, without a writeKey, with the request's
 * receivedAt, and with the very members jansson reads in the client's
 * message (the shallow reading and the splice lose nothing); else it
 * aborts. */
#include "message.h"
#include "segment.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The client's message I as jansson reads the body. */
static json_t *reference(const uint8_t *data, size_t size, int type, size_t i)
{
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    json_t *m = type >= 0 ? body : json_array_get(json_object_get(body, "batch"), i);
    json_incref(m);
    json_decref(body);
    return m;
}

static void same_members(json_t *stored, json_t *client)
{
    static const char *const keys[] = {"userId", "anonymousId", "event",   "properties",
                                       "traits", "name",        "groupId", "previousId"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *a = json_object_get(stored, keys[k]), *b = json_object_get(client, keys[k]);
        if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b)))
            abort();
    }
}

static void check(const uint8_t *data, size_t size, int type)
{
    struct segment_request rq = {(const char *)data, size, type, 1796245980000LL, "fz", 16};
    struct segment_result r;
    json_t *received = json_string("2026-12-02T21:13:00.000Z");
    int st = segment_parse(&rq, &r);
    if (st != 200 && st != 400 && st != 413)
        abort();
    for (size_t i = 0; st == 200 && i < r.n; i++) {
        json_error_t je;
        json_t *m = json_loadb(r.messages[i], r.lens[i], 0, &je);
        struct message msg;
        char err[256];
        if (m == NULL || r.lens[i] > SEGMENT_MESSAGE_MAX || json_object_get(m, "writeKey") ||
            !json_equal(json_object_get(m, "receivedAt"), received) ||
            message_validate(m, "x", 0, &msg, err, sizeof err) != 0)
            abort();
        json_t *client = reference(data, size, type, i);
        if (client == NULL)
            abort();
        same_members(m, client);
        json_decref(client);
        json_decref(m);
    }
    segment_result_free(&r);
    json_decref(received);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, -1);
    check(data, size, MESSAGE_TRACK);
    return 0;
}
