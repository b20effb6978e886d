/* path.h — dotted paths into what a trigger sees: "event.properties.price",
 * "customer.traits.email", "properties.path" (short for event.properties.path). */
#ifndef NUDGED_PATH_H
#define NUDGED_PATH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum path_root { PATH_EVENT, PATH_CUSTOMER, PATH_TRIGGER, PATH_NOW };

struct path {
    enum path_root root;
    char **seg; /* owned */
    size_t n;
};

/* Event paths already resolved while one event is judged, so that the
 * triggers on one event name that test the same path (say twenty `where`s
 * on properties.price) look it up in the message once. Event paths only:
 * the event does not change while it is judged; the customer can. */
#define PATH_MEMO_MAX 8
struct path_memo {
    size_t n;
    struct {
        const struct path *p;
        json_t *v;
    } e[PATH_MEMO_MAX];
};

/* Where the customer's clock comes from: OFFSET(DATA, ZONE, NOW_MS) is the
 * UTC offset in seconds of ZONE (the customer's timezone, NULL when they
 * have none) at NOW_MS, with the configured default for a zone that is
 * unknown or NULL. The daemon and replay read zone files; this module
 * reads none. */
struct eval_zone {
    int32_t (*offset)(void *data, const char *zone, int64_t now_ms);
    void *data;
};

/* Everything a condition or template may read, borrowed for one evaluation. */
struct eval_ctx {
    json_t *event;    /* the message */
    json_t *customer; /* the profile after the event */
    json_t *trigger;  /* {"id", "description"} */
    json_t *now;      /* the current time as an ISO-8601 string */
    int64_t now_ms;
    json_t *state;                /* windowed counters and limits: {"w:...": [ms, ...]} */
    struct path_memo *memo;       /* NULL: every path is looked up */
    const struct eval_zone *zone; /* NULL: customer.local is UTC's */
};

/* Compiles TEXT. Returns 0, or -1 with a reason in ERR (unknown root, empty part). */
int path_compile(struct path *p, const char *text, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The value at P in CTX, borrowed, or NULL when absent. The first path
 * into customer.local adds "local" to CTX's customer (customer_add_local),
 * so the customer's clock is read only by triggers that use it. */
json_t *path_resolve(const struct path *p, const struct eval_ctx *ctx);

/* Adds "local" to CTX's customer (customer_add_local) at CTX's now in the
 * customer's zone, unless it is there or there is no customer. */
void path_add_local(const struct eval_ctx *ctx);

void path_free(struct path *p);

#endif
