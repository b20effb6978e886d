/* jparse.c — JSON read as jansson would, only faster (see
 * jparse.h). Strict RFC 8259, with jansson's own rules where it is
 * stricter: UTF-8 is checked (no overlong forms, surrogates or code points
 * above U+10FFFF), a \u escape must not be NUL or a lone surrogate, the top
 * level is an object or an array. A duplicate key keeps its first place
 * and takes the last value, as json_object_setn_new_nocheck does for
 * jansson. Any doubt returns NULL and jansson decides. */
#include "jparse.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32
#define MAX_NUMBER 64 /* bytes of number text, with its NUL */

struct parser {
    const unsigned char *p, *end;
    int depth;
    int build_depth;              /* containers this deep are checked, not built */
    struct jspan_member *members; /* jparse_shallow's: the top level's spans */
    int nmembers, max_members;
};

static json_t *parse_value(struct parser *ps);
static bool check_value(struct parser *ps);

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* Consumes C if it is next. */
static bool eat(struct parser *ps, unsigned char c)
{
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static bool is_digit(const struct parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* The length of the UTF-8 sequence at P, or 0 if it is not one jansson
 * takes: cut short, overlong, a surrogate or above U+10FFFF. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    size_t n;
    uint32_t v;
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        n = 2, v = p[0] & 0x1Fu;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        n = 3, v = p[0] & 0x0Fu;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        n = 4, v = p[0] & 0x07u;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3Fu);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
    uint32_t v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = v << 4 | (c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* A \u escape at P (after the backslash and 'u'), a surrogate pair as one
 * code point; NUL and lone surrogates are jansson's to refuse. */
static int unicode_escape(const unsigned char **p, const unsigned char *end, uint32_t *cp)
{
    uint32_t lo;
    if (hex4(*p, end, cp) != 0 || *cp == 0 || (*cp >= 0xDC00 && *cp <= 0xDFFF))
        return -1;
    *p += 4;
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u' || hex4(*p + 2, end, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *p += 6;
    *cp = ((*cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
    return 0;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The byte a one-letter escape stands for, or -1. */
static int simple_escape(unsigned c)
{
    switch (c) {
    case '"':
    case '\\':
    case '/': return (int)c;
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return -1;
    }
}

/* The rest of a string with escapes, from its first backslash, decoded
 * into OUT (room for the rest of the input); its length, or -1. */
static long decode_escaped(struct parser *ps, char *out)
{
    size_t n = 0;
    while (ps->p < ps->end) {
        unsigned c = *ps->p;
        if (c == '"') {
            ps->p++;
            return (long)n;
        }
        if (c < 0x20)
            return -1;
        if (c >= 0x80) {
            size_t len = utf8_length(ps->p, ps->end);
            if (len == 0)
                return -1;
            memcpy(out + n, ps->p, len);
            n += len;
            ps->p += len;
            continue;
        }
        ps->p++;
        if (c != '\\') {
            out[n++] = (char)c;
            continue;
        }
        if (ps->p == ps->end)
            return -1;
        c = *ps->p++;
        int b = simple_escape(c);
        uint32_t cp;
        if (b >= 0)
            out[n++] = (char)b;
        else if (c == 'u' && unicode_escape(&ps->p, ps->end, &cp) == 0)
            n += utf8_encode(cp, out + n);
        else
            return -1;
    }
    return -1;
}

/* Advances over a string's plain bytes (no escape) from ps->p, to its
 * closing quote or first backslash: returns that byte, or 0 for what
 * jansson rejects there (a control byte, bad UTF-8, the end). */
static unsigned scan_plain(struct parser *ps)
{
    /* Eight bytes at a time while none is a quote, a backslash, a control
     * byte or non-ASCII (the bit tricks of "Bit Twiddling Hacks": a byte
     * below N, a byte equal to C), then one at a time. */
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    while (ps->end - ps->p >= 8) {
        uint64_t v, q, b;
        memcpy(&v, ps->p, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        if ((((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((b - ones) & ~b) | v) & high)
            break;
        ps->p += 8;
    }
    while (ps->p < ps->end) {
        unsigned c = *ps->p;
        if (c == '"' || c == '\\')
            return c;
        if (c < 0x20)
            return 0;
        if (c < 0x80) {
            ps->p++;
            continue;
        }
        size_t n = utf8_length(ps->p, ps->end);
        if (n == 0)
            return 0;
        ps->p += n;
    }
    return 0;
}

/* The string at ps->p (past its opening quote): *S and *LEN point into the
 * input when it has no escapes, else into *OWNED, which the caller frees. */
static int parse_string(struct parser *ps, const char **s, size_t *len, char **owned)
{
    const unsigned char *start = ps->p;
    *owned = NULL;
    unsigned stop = scan_plain(ps);
    if (stop == '"') {
        *s = (const char *)start;
        *len = (size_t)(ps->p - start);
        ps->p++;
        return 0;
    }
    if (stop == 0)
        return -1;
    /* Escapes only shorten: the decoded rest fits in the rest of the input. */
    size_t done = (size_t)(ps->p - start);
    char *out = malloc(done + (size_t)(ps->end - ps->p) + 1);
    if (out == NULL)
        return -1;
    memcpy(out, start, done);
    long rest = decode_escaped(ps, out + done);
    if (rest < 0) {
        free(out);
        return -1;
    }
    *s = out;
    *len = done + (size_t)rest;
    *owned = out;
    return 0;
}

/* RFC 8259's number, as jansson reads it: an integer (json_int_t) without
 * '.', 'e' or 'E', else a real; out of range is jansson's to report. */
static json_t *parse_number(struct parser *ps)
{
    const unsigned char *start = ps->p;
    bool real = false;
    eat(ps, '-');
    if (!eat(ps, '0')) { /* no leading zeros */
        if (!is_digit(ps))
            return NULL;
        while (is_digit(ps))
            ps->p++;
    }
    if (eat(ps, '.')) {
        if (!is_digit(ps))
            return NULL;
        while (is_digit(ps))
            ps->p++;
        real = true;
    }
    if (eat(ps, 'e') || eat(ps, 'E')) {
        if (!eat(ps, '+'))
            eat(ps, '-');
        if (!is_digit(ps))
            return NULL;
        while (is_digit(ps))
            ps->p++;
        real = true;
    }
    char text[MAX_NUMBER], *end;
    size_t n = (size_t)(ps->p - start);
    if (n >= sizeof text)
        return NULL;
    memcpy(text, start, n);
    text[n] = '\0';
    errno = 0;
    if (real) {
        double d = strtod(text, &end);
        return errno == 0 && end == text + n ? json_real(d) : NULL;
    }
    long long i = strtoll(text, &end, 10);
    return errno == 0 && end == text + n ? json_integer(i) : NULL;
}

static json_t *parse_literal(struct parser *ps, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return NULL;
    ps->p += n;
    return v;
}

/* Where a member of the top level is (jparse_shallow's spans). */
static void note_member(struct parser *ps, const unsigned char *kstart, const unsigned char *kend, bool raw,
                        const unsigned char *vstart)
{
    if (ps->nmembers < 0 || ps->nmembers == ps->max_members) {
        ps->nmembers = -1;
        return;
    }
    ps->members[ps->nmembers++] = (struct jspan_member){
        {(const char *)kstart, (size_t)(kend - kstart)}, {(const char *)vstart, (size_t)(ps->p - vstart)}, raw};
}

/* The members of an object, past its '{'. */
static json_t *parse_object(struct parser *ps)
{
    json_t *o = json_object();
    skip_space(ps);
    if (o == NULL || eat(ps, '}'))
        return o;
    for (;;) {
        const char *key;
        size_t keylen;
        char *owned;
        const unsigned char *kstart = ps->p + 1, *vstart = NULL;
        if (!eat(ps, '"') || parse_string(ps, &key, &keylen, &owned) != 0)
            break;
        const unsigned char *kend = ps->p - 1;
        skip_space(ps);
        json_t *v = NULL;
        if (eat(ps, ':')) {
            skip_space(ps);
            vstart = ps->p;
            v = parse_value(ps);
        }
        if (v && ps->members && ps->depth == 1)
            note_member(ps, kstart, kend, owned == NULL, vstart);
        bool failed = v == NULL || json_object_setn_new_nocheck(o, key, keylen, v) != 0;
        free(owned);
        if (failed)
            break;
        skip_space(ps);
        if (eat(ps, '}'))
            return o;
        if (!eat(ps, ','))
            break;
        skip_space(ps);
    }
    json_decref(o);
    return NULL;
}

/* The elements of an array, past its '['. */
static json_t *parse_array(struct parser *ps)
{
    json_t *a = json_array();
    skip_space(ps);
    if (a == NULL || eat(ps, ']'))
        return a;
    for (;;) {
        json_t *v = parse_value(ps);
        if (v == NULL || json_array_append_new(a, v) != 0)
            break;
        skip_space(ps);
        if (eat(ps, ']'))
            return a;
        if (!eat(ps, ','))
            break;
        skip_space(ps);
    }
    json_decref(a);
    return NULL;
}

/* The members of an object past its '{', checked by the rules that build
 * them, and not built. */
static bool check_members(struct parser *ps)
{
    skip_space(ps);
    if (eat(ps, '}'))
        return true;
    for (;;) {
        const char *key;
        size_t keylen;
        char *owned;
        if (!eat(ps, '"') || parse_string(ps, &key, &keylen, &owned) != 0)
            return false;
        free(owned);
        skip_space(ps);
        if (!eat(ps, ':'))
            return false;
        skip_space(ps);
        if (!check_value(ps))
            return false;
        skip_space(ps);
        if (eat(ps, '}'))
            return true;
        if (!eat(ps, ','))
            return false;
        skip_space(ps);
    }
}

static bool check_elements(struct parser *ps)
{
    skip_space(ps);
    if (eat(ps, ']'))
        return true;
    for (;;) {
        if (!check_value(ps))
            return false;
        skip_space(ps);
        if (eat(ps, ']'))
            return true;
        if (!eat(ps, ','))
            return false;
        skip_space(ps);
    }
}

static bool check_value(struct parser *ps)
{
    if (ps->p == ps->end)
        return false;
    if (*ps->p == '{' || *ps->p == '[') {
        bool object = *ps->p == '{', ok;
        if (++ps->depth > MAX_DEPTH)
            return false;
        ps->p++;
        ok = object ? check_members(ps) : check_elements(ps);
        ps->depth--;
        return ok;
    }
    if (*ps->p == '"') {
        const char *s;
        size_t len;
        char *owned;
        ps->p++;
        bool ok = parse_string(ps, &s, &len, &owned) == 0;
        free(owned);
        return ok;
    }
    json_t *v = parse_value(ps); /* a number or a literal: few, so built and dropped */
    json_decref(v);
    return v != NULL;
}

static json_t *parse_container(struct parser *ps, json_t *(*parse)(struct parser *))
{
    if (ps->depth >= ps->build_depth) { /* shallow: checked, and an empty one stands in */
        bool object = *ps->p == '{';
        return check_value(ps) ? (object ? json_object() : json_array()) : NULL;
    }
    if (++ps->depth > MAX_DEPTH)
        return NULL;
    ps->p++;
    json_t *v = parse(ps);
    ps->depth--;
    return v;
}

static json_t *parse_value(struct parser *ps)
{
    if (ps->p == ps->end)
        return NULL;
    switch (*ps->p) {
    case '{': return parse_container(ps, parse_object);
    case '[': return parse_container(ps, parse_array);
    case '"': {
        const char *s;
        size_t len;
        char *owned;
        ps->p++;
        if (parse_string(ps, &s, &len, &owned) != 0)
            return NULL;
        json_t *v = json_stringn_nocheck(s, len);
        free(owned);
        return v;
    }
    case 't': return parse_literal(ps, "true", json_true());
    case 'f': return parse_literal(ps, "false", json_false());
    case 'n': return parse_literal(ps, "null", json_null());
    default: return parse_number(ps);
    }
}

static json_t *parse_top(const char *buf, size_t len, int build_depth, struct jspan_member *members, int max, int *n)
{
    struct parser ps = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0, build_depth, members, 0, max};
    skip_space(&ps);
    if (ps.p == ps.end || (*ps.p != '{' && *ps.p != '['))
        return NULL;
    json_t *v = parse_value(&ps);
    skip_space(&ps);
    if (v && ps.p != ps.end) {
        json_decref(v);
        return NULL;
    }
    if (n)
        *n = ps.nmembers;
    return v;
}

json_t *jparse_fast(const char *buf, size_t len)
{
    return parse_top(buf, len, MAX_DEPTH + 1, NULL, 0, NULL);
}

json_t *jparse_shallow(const char *buf, size_t len, struct jspan_member *members, int max, int *n)
{
    return parse_top(buf, len, 1, members, max, n);
}

json_t *jparse_loadb(const char *buf, size_t len, json_error_t *err)
{
    json_t *v = jparse_fast(buf, len);
    return v ? v : json_loadb(buf, len, 0, err);
}

/* The string at ps->p (past its opening quote) decoded into OUT, with its
 * NUL: the bytes written, or 0 when jansson would not take it. Encoded, a
 * string takes at least its decoded bytes plus two quotes, so a buffer as
 * long as the input holds all of an object's strings. */
static size_t string_into(struct parser *ps, char *out)
{
    const unsigned char *start = ps->p;
    unsigned stop = scan_plain(ps);
    size_t n = (size_t)(ps->p - start);
    if (stop == 0)
        return 0;
    memcpy(out, start, n);
    if (stop == '\\') {
        long rest = decode_escaped(ps, out + n);
        if (rest < 0)
            return 0;
        n += (size_t)rest;
    } else {
        ps->p++;
    }
    out[n] = '\0';
    return n + 1;
}

static int flat_fail(struct jparse_flat *f)
{
    jparse_flat_free(f);
    return -1;
}

int jparse_flat_parse(struct jparse_flat *f, const char *buf, size_t len)
{
    struct parser ps = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0, MAX_DEPTH + 1, NULL, 0, 0};
    size_t used = 0;
    f->n = 0;
    f->text = malloc(len + 1);
    if (f->text == NULL)
        return -1;
    skip_space(&ps);
    if (!eat(&ps, '{'))
        return flat_fail(f);
    skip_space(&ps);
    bool end = eat(&ps, '}');
    while (!end) {
        size_t k = used, kn, vn;
        if (f->n == JPARSE_FLAT_MAX || !eat(&ps, '"') || (kn = string_into(&ps, f->text + used)) == 0)
            return flat_fail(f);
        used += kn;
        skip_space(&ps);
        if (!eat(&ps, ':'))
            return flat_fail(f);
        skip_space(&ps);
        if (!eat(&ps, '"') || (vn = string_into(&ps, f->text + used)) == 0)
            return flat_fail(f);
        f->key[f->n] = f->text + k;
        f->val[f->n++] = f->text + used;
        used += vn;
        skip_space(&ps);
        end = eat(&ps, '}');
        if (!end && !eat(&ps, ','))
            return flat_fail(f);
        skip_space(&ps);
    }
    skip_space(&ps);
    return ps.p == ps.end ? 0 : flat_fail(f);
}

int jparse_flat_from_json(struct jparse_flat *f, const json_t *obj)
{
    const char *k;
    const json_t *v;
    size_t need = 1;
    f->n = 0;
    f->text = NULL;
    if (!json_is_object(obj) || json_object_size(obj) > JPARSE_FLAT_MAX)
        return -1;
    /* jansson's iteration takes a json_t *, though it changes nothing. */
    json_object_foreach((json_t *)obj, k, v)
    {
        need += strlen(k) + 1 + (json_is_string(v) ? json_string_length(v) : 0) + 1;
    }
    f->text = malloc(need);
    if (f->text == NULL)
        return -1;
    size_t used = 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        size_t kn = strlen(k) + 1, sn = strlen(s) + 1; /* the sizes counted above */
        f->key[f->n] = memcpy(f->text + used, k, kn);
        used += kn;
        f->val[f->n++] = memcpy(f->text + used, s, sn);
        used += sn;
    }
    return 0;
}

const char *jparse_flat_get(const struct jparse_flat *f, const char *key)
{
    for (size_t i = f->n; i-- > 0;)
        if (strcmp(f->key[i], key) == 0)
            return f->val[i];
    return NULL;
}

json_t *jparse_flat_to_json(const struct jparse_flat *f)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < f->n; i++)
        if (json_object_set_new(o, f->key[i], json_string(f->val[i])) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

void jparse_flat_free(struct jparse_flat *f)
{
    free(f->text);
    f->text = NULL;
    f->n = 0;
}
