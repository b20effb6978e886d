/* test_jparse.c — the message parser's fast path and flat reader, held to jansson. */
#include "harness.h"
#include "jparse.h"

/* IN parsed by jparse_loadb gives json_loadb's value in json_loadb's key
 * order (compared as compact JSON text), or fails as it does; FAST says
 * whether the fast path takes it. */
static void check_jparse(const char *in, size_t len, int fast)
{
    json_error_t je;
    json_t *want = json_loadb(in, len, 0, &je), *got = jparse_loadb(in, len, &je), *f = jparse_fast(in, len);
    char *w = want ? json_dumps(want, JSON_COMPACT) : NULL, *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
    CHECK((w == NULL && g == NULL) || (w && g && strcmp(w, g) == 0 && json_equal(want, got)),
          "jparse %.40s: want %s, got %s", in, w ? w : "an error", g ? g : "an error");
    CHECK((f != NULL) == fast, "jparse %.40s: the fast path %s it", in, f ? "took" : "left");
    free(w);
    free(g);
    json_decref(want);
    json_decref(got);
    json_decref(f);
}

static void test_jparse(void)
{
    static const struct {
        const char *in;
        int fast;
    } cases[] = {
        {"{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Order Completed\",\"properties\":{\"total\":19.99,"
         "\"n\":-0,\"big\":-9223372036854775808,\"e\":1.5E+3,\"tags\":[true,false,null,[],{}]}}",
         1},
        {" \t\r\n{ \"a\" : [ 1 , 2 ] , \"\" : \"\" }\n", 1},
        {"{\"q\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", 1},
        {"{\"u\":\"M\\u00fcller \\u20AC \\ud83d\\ude00\", \"k\\u00e9y\":1}", 1},
        {"{\"u\":\"M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x98\x80\"}", 1},
        {"{\"a\":1,\"b\":2,\"a\":3}", 1}, /* the first place, the last value */
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 1},
        /* Valid for jansson, left to it. */
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 0},
        {"{\"a\":1e-400}", 0},
        {"{\"a\":1.000000000000000000000000000000000000000000000000000000000000001}", 0},
        /* Invalid: jansson says why. */
        {"{\"a\":\"\\u0000\"}", 0},
        {"{\"a\":\"\\ud800\"}", 0},
        {"{\"a\":\"\\ud800\\u0041\"}", 0},
        {"{\"a\":\"\\udc00\"}", 0},
        {"{\"a\":\"\\u12\"}", 0},
        {"{\"a\":\"\\x\"}", 0},
        {"{\"a\":9223372036854775808}", 0},
        {"{\"a\":1e400}", 0},
        {"{\"a\":01}", 0},
        {"{\"a\":1.}", 0},
        {"{\"a\":.5}", 0},
        {"{\"a\":+1}", 0},
        {"{\"a\":-}", 0},
        {"{\"a\":1e}", 0},
        {"{\"a\":tru}", 0},
        {"{\"a\":truex}", 0},
        {"[1,]", 0},
        {"{\"a\":1,}", 0},
        {"{\"a\" 1}", 0},
        {"{a:1}", 0},
        {"{\"a\":1}x", 0},
        {"{\"a\":1}}", 0},
        {"\"text\"", 0},
        {"42", 0},
        {"", 0},
        {"   ", 0},
        {"{\"a\":\"\x01\"}", 0},
        {"{\"a\":\"\xc3\x28\"}", 0},
        {"{\"a\":\"\xc0\xaf\"}", 0},
        {"{\"a\":\"\xe0\x80\xaf\"}", 0},
        {"{\"a\":\"\xed\xa0\x80\"}", 0},
        {"{\"a\":\"\xf4\x90\x80\x80\"}", 0},
        {"{\"a\":\"\xf0\x9f\x98\"}", 0},
        {"{\"a\":\"\x80\"}", 0},
        {"{\"a\":\"open", 0},
        {"{\"a\":\"open\\", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_jparse(cases[i].in, strlen(cases[i].in), cases[i].fast);
    /* A NUL byte inside the buffer, in a string and after the value. */
    check_jparse("{\"a\":\"x\0y\"}", 11, 0);
    check_jparse("{\"a\":1}\0", 8, 0);
    /* The length bounds the input: what follows it is not read. */
    check_jparse("{\"a\":1}garbage", 7, 1);
    check_jparse("{\"a\":\"bc\"}", 9, 0);
}

/* IN read as a flat object of strings: taken (TAKES) exactly when it is
 * one that jansson reads, with jansson's value. */
static void check_flat(const char *in, size_t len, int takes)
{
    struct jparse_flat f;
    int rc = jparse_flat_parse(&f, in, len);
    CHECK((rc == 0) == takes, "flat %.40s: %s", in, rc == 0 ? "taken" : "left");
    if (rc == 0) {
        json_t *want = json_loadb(in, len, 0, NULL), *got = jparse_flat_to_json(&f);
        CHECK(want && got && json_equal(want, got), "flat %.40s: jansson's value", in);
        json_decref(want);
        json_decref(got);
    }
    CHECK(rc == 0 || (f.n == 0 && f.text == NULL), "flat %.40s: left empty", in);
    jparse_flat_free(&f);
}

static void test_jparse_flat(void)
{
    static const struct {
        const char *in;
        int takes;
    } cases[] = {
        {"{}", 1},
        {" {\"a\" : \"b\" ,\"c\":\"\"} \n", 1},
        {"{\"k\":\"q\\\"b\\\\s\\/n\\n\\t\\u00e9\\ud83d\\ude00 \xc3\xa9\"}", 1}, /* escapes, UTF-8 */
        {"{\"a\":\"1\",\"a\":\"2\"}", 1},                                       /* the last value wins */
        {"{\"a\":1}", 0},
        {"{\"a\":null}", 0},
        {"{\"a\":{\"b\":\"c\"}}", 0},
        {"[\"a\"]", 0},
        {"\"a\"", 0},
        {"{\"a\":\"x\\u0000y\"}", 0}, /* jansson refuses NUL without a flag */
        {"{\"a\":\"\\ud800\"}", 0},   /* a lone surrogate */
        {"{\"a\":\"\xc3\"}", 0},      /* cut-short UTF-8 */
        {"{\"a\":\"\x01\"}", 0},      /* a control byte */
        {"{\"a\":\"b\"} x", 0},
        {"{\"a\":\"b\"", 0},
        {"{\"a\":\"b\" \"c\":\"d\"}", 0},
        {"{\"a\":\"b\",}", 0},
        {"{\"a\" \"b\"}", 0},
        {"{\"a\":\"b\\x\"}", 0}, /* an unknown escape */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_flat(cases[i].in, strlen(cases[i].in), cases[i].takes);

    /* The value of a key given twice is the last; a missing key is NULL. */
    struct jparse_flat f;
    CHECK(jparse_flat_parse(&f, "{\"a\":\"1\",\"b\":\"x\",\"a\":\"2\"}", 25) == 0, "duplicate keys");
    CHECK_STR(jparse_flat_get(&f, "a"), "2", "last value");
    CHECK(jparse_flat_get(&f, "z") == NULL, "missing key");
    jparse_flat_free(&f);

    /* Up to JPARSE_FLAT_MAX members; one more is left to jansson. */
    char big[1024];
    size_t n = 0;
    for (int i = 0; i <= JPARSE_FLAT_MAX; i++) {
        n += (size_t)snprintf(big + n, sizeof big - n, "%s\"k%d\":\"v\"", i ? "," : "{", i);
        char obj[1100];
        snprintf(obj, sizeof obj, "%s}", big);
        check_flat(obj, strlen(obj), i < JPARSE_FLAT_MAX); /* i + 1 members */
    }

    /* From jansson: a value that is not a string reads as "". */
    json_t *o = json_pack("{s:s, s:i, s:n}", "a", "x", "b", 7, "c");
    CHECK(jparse_flat_from_json(&f, o) == 0 && f.n == 3, "from jansson");
    CHECK_STR(jparse_flat_get(&f, "a"), "x", "a string");
    CHECK_STR(jparse_flat_get(&f, "b"), "", "a number");
    jparse_flat_free(&f);
    json_decref(o);
}

int main(void)
{
    test_jparse();
    test_jparse_flat();
    return harness_summary("test_jparse");
}
