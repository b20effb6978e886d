/* test_template.c — templates: rendering, filters and each escaping. */
#include "errlist.h"
#include "fixtures.h"
#include "harness.h"
#include "template.h"

static const struct {
    const char *name, *text;
    enum template_escape esc;
    const char *want;
} tmpl_cases[] = {
    {"plain path", "Hi {{customer.id}}!", TEMPLATE_TEXT, "Hi u1!"},
    {"number", "{{properties.price}} EUR", TEMPLATE_TEXT, "25 EUR"},
    {"default used", "{{customer.traits.first_name | default: \"klant\"}}", TEMPLATE_TEXT, "klant"},
    {"default unused", "{{customer.traits.email | default: \"x\"}}", TEMPLATE_TEXT, "z@example.com"},
    {"upcase", "{{properties.name | upcase}}", TEMPLATE_TEXT, "BLUE SHOE"},
    {"downcase", "{{properties.name | downcase}}", TEMPLATE_TEXT, "blue shoe"},
    {"capitalize", "{{customer.group | capitalize}}", TEMPLATE_TEXT, "Active"},
    {"url_encode filter", "{{properties.name | url_encode}}", TEMPLATE_TEXT, "Blue%20Shoe"},
    {"filters chain", "{{customer.traits.nick | default: \"anon\" | upcase}}", TEMPLATE_TEXT, "ANON"},
    {"url escaping", "https://x.test/p?n={{properties.name}}&q={{properties.path}}", TEMPLATE_URL,
     "https://x.test/p?n=Blue%20Shoe&q=%2Fpricing%2Fpro"},
    {"a .. value never climbs a URL path", "http://h.test/api/{{properties.up}}/info?x={{properties.dot}}.",
     TEMPLATE_URL, "http://h.test/api/%2E%2E/info?x=%2E."},
    {"dots inside a value stay", "http://h.test/{{properties.file}}", TEMPLATE_URL, "http://h.test/a..b.txt"},
    {"html escaping", "<b>{{properties.html}}</b>", TEMPLATE_HTML, "<b>&lt;i&gt;&amp;&quot;</b>"},
    {"trigger root", "{{trigger.id}}", TEMPLATE_TEXT, "cart"},
    {"now root", "{{now}}", TEMPLATE_TEXT, "2026-11-22T10:00:00.000Z"},
    {"no placeholders", "just text", TEMPLATE_TEXT, "just text"},
    {"absent is empty", "[{{properties.none}}]", TEMPLATE_TEXT, "[]"},
};

static void test_templates(void)
{
    json_t *ev = json_loads("{\"properties\":{\"price\":25,\"name\":\"Blue Shoe\",\"path\":\"/pricing/pro\","
                            "\"html\":\"<i>&\\\"\",\"evil\":\"a\\r\\nBcc: x@y\",\"up\":\"..\",\"dot\":\".\","
                            "\"file\":\"a..b.txt\",\"tabs\":\"Sale\\t\\u007f now\",\"js\":\"javascript:alert(1)\","
                            "\"link\":\"https://shop.test/?a=1&b=2\"}}",
                            0, NULL);
    json_t *cu = json_loads(FIXTURE_CUSTOMER, 0, NULL), *now = json_string("2026-11-22T10:00:00.000Z");
    json_t *trig = json_pack("{s:s}", "id", "cart");
    struct eval_ctx ctx = {ev, cu, trig, now, FIXTURE_NOW_MS, NULL, NULL, NULL};
    struct errlist errs = {0};
    struct diag d = {&errs, "t.json", "t"};
    char err[256];
    for (size_t i = 0; i < sizeof tmpl_cases / sizeof tmpl_cases[0]; i++) {
        struct template *t = template_compile(tmpl_cases[i].text, tmpl_cases[i].esc, "x", &d);
        CHECK(t != NULL, "%s: does not compile", tmpl_cases[i].name);
        char *out = t ? template_render(t, &ctx, err, sizeof err) : NULL;
        CHECK_STR(out, tmpl_cases[i].want, tmpl_cases[i].name);
        free(out);
        template_free(t);
    }
    /* A header value is folded, as RFC 5322 allows: CR, LF and TAB runs
     * become one space, other controls and DEL go; never a second line. */
    struct template *h =
        template_compile("x-{{properties.evil}}|{{properties.tabs}}", TEMPLATE_HEADER, "headers.x", &d);
    char *out = h ? template_render(h, &ctx, err, sizeof err) : NULL;
    CHECK_STR(out, "x-a Bcc: x@y|Sale  now", "header folded, not injected");
    free(out);
    template_free(h);
    /* A value that starts an href or src must be an http(s) or mailto link. */
    static const struct {
        const char *text, *want; /* want NULL: the render fails */
    } links[] = {
        {"<a href=\"{{properties.js}}\">x</a>", NULL},
        {"<img SRC = '{{properties.js}}'>", NULL},
        {"<a href={{properties.link}}>x</a>", "<a href=https://shop.test/?a=1&amp;b=2>x</a>"},
        {"<a href=\"mailto:{{properties.js}}\">x</a>", "<a href=\"mailto:javascript:alert(1)\">x</a>"},
        {"<p title=\"{{properties.js}}\">x</p>", "<p title=\"javascript:alert(1)\">x</p>"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        struct template *l = template_compile(links[i].text, TEMPLATE_HTML, "html", &d);
        char *got = l ? template_render(l, &ctx, err, sizeof err) : NULL;
        if (links[i].want)
            CHECK_STR(got, links[i].want, links[i].text);
        else
            CHECK(got == NULL && strstr(err, "must start with http://"), "%s: refused (%s)", links[i].text, err);
        free(got);
        template_free(l);
    }
    /* A single placeholder keeps the value's JSON type. */
    struct template *w = template_compile("{{properties.price}}", TEMPLATE_TEXT, "body.p", &d);
    int whole;
    json_t *v = template_whole_value(w, &ctx, &whole);
    CHECK(whole && json_is_integer(v) && json_integer_value(v) == 25, "whole value keeps the number");
    template_free(w);
    CHECK(errs.n == 0, "no compile errors expected, got %zu", errs.n);
    errlist_clear(&errs);
    json_decref(ev);
    json_decref(cu);
    json_decref(now);
    json_decref(trig);
}

int main(void)
{
    test_templates();
    return harness_summary("test_template");
}
