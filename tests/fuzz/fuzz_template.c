/* fuzz_template.c — libFuzzer target: any bytes as a template, compiled for
 * every escaping and rendered against a customer whose values carry
 * quotes, angle brackets, newlines and non-ASCII text. */
#include "errlist.h"
#include "template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum template_escape escapes[] = {TEMPLATE_TEXT, TEMPLATE_URL, TEMPLATE_HTML, TEMPLATE_HEADER};
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *ev = json_pack("{s:s, s:{s:s, s:f}}", "event", "X", "properties", "name", "a\"b<c>\r\nd", "price", 9.5);
    json_t *cu = json_pack("{s:s, s:{s:s, s:b}}", "id", "Zoë & co", "traits", "first_name", "Jürgen\x01", "vip", 1);
    json_t *now = json_string("2026-11-22T10:00:00.000Z");
    struct eval_ctx ctx = {ev, cu, NULL, now, 0, NULL, NULL, NULL};
    for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
        struct errlist errs = {0};
        struct diag d = {&errs, "fuzz.json", "t"};
        struct template *t = template_compile(text, escapes[i], "body", &d);
        if (t) {
            char err[256];
            free(template_render(t, &ctx, err, sizeof err));
            int whole;
            (void)template_whole_value(t, &ctx, &whole);
            template_free(t);
        }
        errlist_clear(&errs);
    }
    json_decref(ev);
    json_decref(cu);
    json_decref(now);
    free(text);
    return 0;
}
