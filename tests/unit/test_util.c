/* test_util.c — numbers written without printf. */
#include "harness.h"
#include "util.h"

static void test_i64(void)
{
    static const struct {
        int64_t v;
        const char *want;
    } cases[] = {{0, "0"},
                 {7, "7"},
                 {-1, "-1"},
                 {1700000000000, "1700000000000"},
                 {INT64_MAX, "9223372036854775807"},
                 {INT64_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[UTIL_I64_LEN];
        CHECK_STR(util_i64(buf, cases[i].v), cases[i].want, "util_i64");
    }
}

int main(void)
{
    test_i64();
    return harness_summary("test_util");
}
