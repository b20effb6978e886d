/* template.c — the small template language of trigger actions.
 *
 * A template is a list of parts: literal text, or a placeholder with a path
 * and filters. Escaping is decided by where the output lands and applied to
 * inserted values only, never to the marketer's literal text.
 */
#include "template.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEMPLATE_MAX_OUTPUT (1024 * 1024)

enum filter_kind { F_UPCASE, F_DOWNCASE, F_CAPITALIZE, F_URL_ENCODE, F_DEFAULT };
static const char *const filter_names[] = {"upcase", "downcase", "capitalize", "url_encode", "default"};
#define NFILTERS (sizeof filter_names / sizeof filter_names[0])

struct filter {
    enum filter_kind kind;
    char *arg; /* F_DEFAULT */
};

struct part {
    char *text; /* literal, or NULL for a placeholder */
    struct path path;
    struct filter *filters;
    size_t nfilters;
    bool url_attr; /* html: the value starts an href or src attribute */
};

struct template
{
    enum template_escape escape;
    struct part *parts;
    size_t nparts;
};

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* skip_ws that stops at END (a filter is parsed inside its own span). */
static const char *skip_ws_to(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Parses a "quoted" argument at P into *OUT; returns the end or NULL. */
static const char *parse_quoted(const char *p, char **out)
{
    if (*p != '"')
        return NULL;
    struct buf b;
    util_buf_init(&b, 4096);
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (util_buf_add(&b, p, 1) != 0)
            break;
    }
    if (*p != '"') {
        util_buf_free(&b);
        return NULL;
    }
    *out = util_buf_steal(&b);
    return p + 1;
}

static int parse_filter(struct part *pt, const char *s, const char *end, char *err, size_t errlen)
{
    s = skip_ws(s);
    size_t n = 0;
    while (s + n < end && (isalnum((unsigned char)s[n]) || s[n] == '_'))
        n++;
    size_t k;
    for (k = 0; k < NFILTERS; k++)
        if (strlen(filter_names[k]) == n && strncmp(s, filter_names[k], n) == 0)
            break;
    if (k == NFILTERS) {
        snprintf(err, errlen,
                 "unknown filter \"%.*s\": filters are upcase, downcase, capitalize, url_encode "
                 "and default: \"text\"",
                 (int)(end - s), s);
        return -1;
    }
    struct filter f = {(enum filter_kind)k, NULL};
    const char *p = skip_ws_to(s + n, end);
    if (f.kind == F_DEFAULT) {
        if (p == end || *p != ':' || (p = parse_quoted(skip_ws_to(p + 1, end), &f.arg)) == NULL || p > end) {
            free(f.arg); /* a quote that closes only after the }} */
            snprintf(err, errlen, "default needs a quoted text: {{path | default: \"text\"}}");
            return -1;
        }
        p = skip_ws_to(p, end);
    }
    if (p != end) {
        free(f.arg);
        snprintf(err, errlen, "unexpected \"%.*s\" after the filter %s", (int)(end - p), p, filter_names[k]);
        return -1;
    }
    pt->filters = util_xrealloc(pt->filters, (pt->nfilters + 1) * sizeof *pt->filters);
    pt->filters[pt->nfilters++] = f;
    return 0;
}

/* Splits S..END on '|' outside quotes into the path and its filters. */
static int parse_placeholder(struct part *pt, const char *s, const char *end, char *err, size_t errlen)
{
    const char *bar = s;
    int quoted = 0;
    while (bar < end && (quoted || *bar != '|')) {
        if (*bar == '"')
            quoted = !quoted;
        bar++;
    }
    const char *ps = skip_ws(s), *pe = bar;
    while (pe > ps && (pe[-1] == ' ' || pe[-1] == '\t'))
        pe--;
    if (pe == ps) {
        snprintf(err, errlen, "empty placeholder {{}}: write {{customer.id}} or another path");
        return -1;
    }
    char *pathtext = util_xstrndup(ps, (size_t)(pe - ps));
    int rc = path_compile(&pt->path, pathtext, err, errlen);
    free(pathtext);
    if (rc != 0)
        return -1;
    while (bar < end) {
        const char *fs = bar + 1;
        bar = fs;
        quoted = 0;
        while (bar < end && (quoted || *bar != '|')) {
            if (*bar == '"')
                quoted = !quoted;
            bar++;
        }
        const char *fe = bar;
        while (fe > fs && (fe[-1] == ' ' || fe[-1] == '\t'))
            fe--;
        if (parse_filter(pt, fs, fe, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static struct part *new_part(struct template *t)
{
    t->parts = util_xrealloc(t->parts, (t->nparts + 1) * sizeof *t->parts);
    struct part *pt = &t->parts[t->nparts++];
    memset(pt, 0, sizeof *pt);
    return pt;
}

/* A URL template may only insert after the scheme and host. */
static int check_url(const char *text, char *err, size_t errlen)
{
    const char *first = strstr(text, "{{");
    const char *scheme = strstr(text, "://");
    if (first == NULL)
        return 0;
    const char *host_end = scheme && scheme < first ? strchr(scheme + 3, '/') : NULL;
    if (host_end == NULL || first < host_end) {
        snprintf(err, errlen, "templates may only stand in the path and query of a URL, not in its scheme or host");
        return -1;
    }
    return 0;
}

/* True when the html before END (from TEXT) opens an href or src
 * attribute's value: href=", src=' or href= (spaces allowed around =). */
static bool ends_url_attr(const char *text, const char *end)
{
    const char *p = end;
    if (p > text && (p[-1] == '"' || p[-1] == '\''))
        p--;
    while (p > text && isspace((unsigned char)p[-1]))
        p--;
    if (p == text || p[-1] != '=')
        return false;
    p--;
    while (p > text && isspace((unsigned char)p[-1]))
        p--;
    static const char *const names[] = {"href", "src"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(names[i]);
        if ((size_t)(p - text) >= n && strncasecmp(p - n, names[i], n) == 0 &&
            (p - n == text || !isalnum((unsigned char)*(p - n - 1))))
            return true;
    }
    return false;
}

static int compile_parts(struct template *t, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    while (*p) {
        const char *open = strstr(p, "{{");
        if (open == NULL) {
            new_part(t)->text = util_xstrdup(p);
            break;
        }
        if (open > p)
            new_part(t)->text = util_xstrndup(p, (size_t)(open - p));
        const char *close = strstr(open + 2, "}}");
        if (close == NULL) {
            snprintf(err, errlen, "unclosed {{ at \"%.20s\": close it with }}", open);
            return -1;
        }
        bool url_attr = t->escape == TEMPLATE_HTML && ends_url_attr(text, open);
        struct part *pt = new_part(t);
        pt->url_attr = url_attr;
        if (parse_placeholder(pt, open + 2, close, err, errlen) != 0)
            return -1;
        p = close + 2;
    }
    return 0;
}

struct template *template_compile(const char *text, enum template_escape escape, const char *path, const struct diag *d)
{
    char err[512];
    struct template *t = util_xcalloc(1, sizeof *t);
    t->escape = escape;
    if ((escape == TEMPLATE_URL && check_url(text, err, sizeof err) != 0) ||
        compile_parts(t, text, err, sizeof err) != 0) {
        errlist_diag(d, path, "%s", err);
        template_free(t);
        return NULL;
    }
    return t;
}

/* The text of V as a template inserts it; "" for absent and null. */
static char *value_text(json_t *v)
{
    char num[64];
    if (v == NULL || json_is_null(v))
        return util_xstrdup("");
    if (json_is_string(v))
        return util_xstrndup(json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return util_xstrdup(num);
    }
    if (json_is_real(v)) {
        snprintf(num, sizeof num, "%.15g", json_real_value(v));
        return util_xstrdup(num);
    }
    if (json_is_boolean(v))
        return util_xstrdup(json_is_true(v) ? "true" : "false");
    char *s = json_dumps(v, JSON_COMPACT);
    return s ? s : util_xstrdup("");
}

/* Percent-encodes S but for RFC 3986's unreserved bytes. A value of dots
 * only is encoded whole ("%2E%2E"): as "." or ".." it would be a dot
 * segment, which curl removes, so a trait of ".." climbed the webhook's
 * path; and "." beside a literal dot would make one. */
static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = util_xmalloc(strlen(s) * 3 + 1), *o = out;
    bool dots = *s && strspn(s, ".") == strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || (*p == '.' && !dots) || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static char *apply_filter(const struct filter *f, char *s)
{
    switch (f->kind) {
    case F_UPCASE:
        for (char *c = s; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        return s;
    case F_DOWNCASE:
        for (char *c = s; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        return s;
    case F_CAPITALIZE:
        if (*s)
            *s = (char)toupper((unsigned char)*s);
        return s;
    case F_URL_ENCODE: {
        char *e = url_encode(s);
        free(s);
        return e;
    }
    case F_DEFAULT:
        if (*s == '\0') {
            free(s);
            return util_xstrdup(f->arg);
        }
        return s;
    }
    return s;
}

static int add_escaped(struct buf *b, const char *s, enum template_escape escape, char *err, size_t errlen)
{
    if (escape == TEMPLATE_URL) {
        char *e = url_encode(s);
        int rc = util_buf_adds(b, e);
        free(e);
        return rc;
    }
    if (escape == TEMPLATE_HTML) {
        for (const char *p = s; *p; p++) {
            const char *rep = *p == '<'    ? "&lt;"
                              : *p == '>'  ? "&gt;"
                              : *p == '&'  ? "&amp;"
                              : *p == '"'  ? "&quot;"
                              : *p == '\'' ? "&#39;"
                                           : NULL;
            if ((rep ? util_buf_adds(b, rep) : util_buf_add(b, p, 1)) != 0)
                return -1;
        }
        return 0;
    }
    if (escape == TEMPLATE_HEADER) { /* folded as RFC 5322 allows: never a line break */
        int rc = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (*p == '\t' || *p == '\r' || *p == '\n') {
                while (p[1] == '\t' || p[1] == '\r' || p[1] == '\n')
                    p++;
                rc |= util_buf_add(b, " ", 1);
            } else if (*p >= 0x20 && *p != 0x7f) {
                rc |= util_buf_add(b, p, 1);
            } /* other controls and DEL: dropped */
        }
        return rc;
    }
    (void)err;
    (void)errlen;
    return util_buf_adds(b, s);
}

/* A value that starts an href or src must be a link a mail client may
 * follow: http, https or mailto (javascript: and data: went out as they
 * were). */
static bool safe_link(const char *s)
{
    static const char *const schemes[] = {"http://", "https://", "mailto:"};
    while (isspace((unsigned char)*s))
        s++;
    for (size_t i = 0; i < 3; i++)
        if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0)
            return true;
    return false;
}

char *template_render(const struct template *t, const struct eval_ctx *ctx, char *err, size_t errlen)
{
    struct buf b;
    util_buf_init(&b, TEMPLATE_MAX_OUTPUT);
    err[0] = '\0';
    for (size_t i = 0; i < t->nparts; i++) {
        const struct part *pt = &t->parts[i];
        int rc;
        if (pt->text) {
            rc = t->escape == TEMPLATE_HEADER ? add_escaped(&b, pt->text, TEMPLATE_HEADER, err, errlen)
                                              : util_buf_adds(&b, pt->text);
        } else {
            char *s = value_text(path_resolve(&pt->path, ctx));
            for (size_t k = 0; k < pt->nfilters; k++)
                s = apply_filter(&pt->filters[k], s);
            if (pt->url_attr && !safe_link(s)) {
                snprintf(err, errlen,
                         "a link (href or src) must start with http://, https:// or mailto:, not \"%.40s\"", s);
                rc = -1;
            } else {
                rc = add_escaped(&b, s, t->escape, err, errlen);
            }
            free(s);
        }
        if (rc != 0) {
            if (err[0] == '\0')
                snprintf(err, errlen, "the rendered text is longer than %d bytes", TEMPLATE_MAX_OUTPUT);
            util_buf_free(&b);
            return NULL;
        }
    }
    return util_buf_steal(&b);
}

json_t *template_whole_value(const struct template *t, const struct eval_ctx *ctx, int *whole)
{
    *whole = t->nparts == 1 && t->parts[0].text == NULL && t->parts[0].nfilters == 0;
    return *whole ? path_resolve(&t->parts[0].path, ctx) : NULL;
}

void template_free(struct template *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nparts; i++) {
        free(t->parts[i].text);
        path_free(&t->parts[i].path);
        for (size_t k = 0; k < t->parts[i].nfilters; k++)
            free(t->parts[i].filters[k].arg);
        free(t->parts[i].filters);
    }
    free(t->parts);
    free(t);
}
