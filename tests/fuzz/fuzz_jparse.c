/* fuzz_jparse.c — libFuzzer target: any bytes through jparse's fast path,
 * its flat reader and json_loadb. Whatever the fast path takes, jansson
 * must take too, with the same value and the same key order; whatever the
 * flat reader takes, jansson must read as the same object of strings;
 * the shallow reader must take exactly what the fast path takes, with the
 * same top-level scalars and member spans that hold those very values;
 * else it aborts. */
#include "jparse.h"

#include <stdbool.h>
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

/* The shallow reader against the fast one: same verdict; each top-level
 * member the same (an empty container standing for a full one); each
 * noted span, read again, the same value. */
static void check_shallow(const uint8_t *data, size_t size, json_t *fast)
{
    struct jspan_member m[8];
    int n = -2;
    json_t *shallow = jparse_shallow((const char *)data, size, m, 8, &n);
    if ((shallow == NULL) != (fast == NULL))
        abort();
    if (shallow == NULL)
        return;
    if (json_is_object(fast)) {
        const char *key;
        json_t *v;
        json_object_foreach(fast, key, v)
        {
            json_t *s = json_object_get(shallow, key);
            bool container = json_is_object(v) || json_is_array(v);
            if (s == NULL || (container ? json_typeof(s) != json_typeof(v) || json_object_size(s) + json_array_size(s)
                                        : !json_equal(s, v)))
                abort();
        }
        if (json_object_size(fast) != json_object_size(shallow) || n < -1 || n > 8)
            abort();
        for (int i = 0; i < n; i++) {
            json_t *again = json_loadb(m[i].value.p, m[i].value.n, JSON_DECODE_ANY, NULL);
            if (again == NULL || (m[i].raw_key && m[i].key.p[-1] != '"') || m[i].key.p[m[i].key.n] != '"')
                abort();
            json_decref(again);
        }
    }
    json_decref(shallow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_flat(data, size);
    json_t *fast = jparse_fast((const char *)data, size);
    check_shallow(data, size, fast);
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
