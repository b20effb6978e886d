/* fuzz_jparse.c — libFuzzer target: any bytes through jparse's fast path
 * and through json_loadb. Whatever the fast path takes, jansson must take
 * too, with the same value and the same key order; else it aborts. */
#include "jparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
