/* fuzz_triggers.c — libFuzzer target: any bytes as a trigger file. Loading
 * must either give a set or errors, never crash, leak or hang; a set that
 * loads is also matched against a sample event. */
#include "errlist.h"
#include "message.h"
#include "trigger.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The files a fuzzed trigger names are never read: the loader is pure,
 * and a name that cannot be read is a load error like any other. */
static const struct util_files no_files = {"config/triggers.d", NULL, NULL};

static void match_sample(const struct trigger_set *set)
{
    json_t *msg = json_pack("{s:s, s:s, s:s, s:{s:s, s:i}}", "type", "track", "userId", "u1", "event", "Product Added",
                            "properties", "path", "/pricing", "price", 30);
    struct message m;
    char err[256];
    if (message_validate(msg, "1-0", 1700000000000LL, &m, err, sizeof err) == 0) {
        json_t *cust = json_pack("{s:s, s:{s:s}, s:i}", "id", "u1", "traits", "email", "a@b.test", "score", 10);
        struct eval_ctx ctx = {msg, cust, NULL, NULL, 1700000000000LL, NULL, NULL, NULL};
        const struct trigger *out[64];
        size_t n = trigger_set_match(set, &m, &ctx, out, 64);
        for (size_t i = 0; i < n; i++) {
            ctx.trigger = trigger_info(out[i]);
            for (size_t a = 0; a < trigger_action_count(out[i]); a++) {
                struct action_out ao;
                if (trigger_render_action(out[i], a, &ctx, &ao, err, sizeof err) == 0)
                    trigger_action_out_free(&ao);
            }
        }
        json_decref(cust);
    }
    json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct errlist errs = {0};
    struct trigger_set *set = trigger_set_load_text("fuzz.json", text, &no_files, &errs);
    if (set)
        match_sample(set);
    trigger_set_free(set);
    errlist_clear(&errs);
    free(text);
    return 0;
}
