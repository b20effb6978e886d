/* fuzz_jparse.c — libFuzzer target: any bytes through jparse's fast path,
 * its flat reader and json_loadb. Whatever the fast path takes, jansson
 * must take too, with the same value and the same key order; whatever the
 * flat reader takes, jansson must read as the same object of strings;
 * else it aborts. */
#include "jparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_flat(const uint8_t *data, size_t size)
{
    struct jparse_flat f;
    if (jparse_flat_parse(&f, (const char *)data, size) != 0)
        return;
    json_t *want = json_loadb((const char *)data, size, 0, NULL), *got = jparse_flat_to_json(&f);
    if (want == NULL || got == NULL || !json_equal(want, got))
        abort();
    json_decref(want);
    json_decref(got);
    jparse_flat_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_flat(data, size);
    json_t *fast = jparse_fast((const char *)data, size);
    if (fast == NULL)
        return 0;
    json_t *want = json_loadb((const char *)data, size, 0, NULL);
    if (want == NULL || !json_equal(fast, want))
        abort();
    char *a = json_dumps(fast, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        abort();
    free(a);
    free(b);
    json_decref(fast);
    json_decref(want);
    return 0;
}
