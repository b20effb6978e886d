/* jspan.c — spans of members and elements in valid JSON (see jspan.h).
 * Validity is the caller's (the text was parsed first), so this only
 * skips: strings to their closing quote, containers to their matching
 * bracket, scalars to the next delimiter. */
#include "jspan.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* P at an opening quote: the byte after the closing one, or NULL. A quote
 * ends the string unless an odd run of backslashes stands before it;
 * memchr finds the quotes (most strings in a message hold none to skip). */
static const char *skip_string(const char *p, const char *end)
{
    for (const char *from = p + 1;;) {
        const char *q = memchr(from, '"', (size_t)(end - from));
        if (q == NULL)
            return NULL;
        const char *b = q;
        while (b > from && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        from = q + 1;
    }
}

static bool ends_scalar(char c)
{
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* P at a value: the byte after it, or NULL. */
static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !ends_scalar(*p))
            p++;
        return p;
    }
    int depth = 0;
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return NULL;
}

/* The elements of the array at P (its '['), into OUT (at most MAX, *COUNT
 * of them, -1 past MAX): the byte after its ']', or NULL. */
static const char *scan_elements(const char *p, const char *end, struct jspan *out, int max, int *count)
{
    *count = 0;
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    while (p < end) {
        const char *v = p;
        if ((p = skip_value(v, end)) == NULL)
            return NULL;
        if (*count >= 0 && *count < max)
            out[(*count)++] = (struct jspan){v, (size_t)(p - v)};
        else
            *count = -1;
        p = skip_ws(p, end);
        if (p < end && *p == ']')
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
    return NULL;
}

int jspan_members_elements(const char *p, size_t n, struct jspan_member *out, int max, const char *key,
                           struct jspan *elems, int maxe, int *ne)
{
    const char *end = p + n;
    size_t keylen = key ? strlen(key) : 0;
    int count = 0;
    if (ne)
        *ne = -1;
    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return skip_ws(p + 1, end) == end ? 0 : -1;
    while (p < end && *p == '"') {
        if (count == max)
            return -1;
        struct jspan_member *m = &out[count++];
        const char *k = p;
        if ((p = skip_string(p, end)) == NULL)
            return -1;
        m->key = (struct jspan){k + 1, (size_t)(p - k - 2)};
        m->raw_key = memchr(m->key.p, '\\', m->key.n) == NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return -1;
        const char *v = skip_ws(p + 1, end);
        bool wanted = key && v < end && *v == '[' && m->key.n == keylen && memcmp(m->key.p, key, keylen) == 0;
        if ((p = wanted ? scan_elements(v, end, elems, maxe, ne) : skip_value(v, end)) == NULL)
            return -1;
        m->value = (struct jspan){v, (size_t)(p - v)};
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            return skip_ws(p + 1, end) == end ? count : -1;
        if (p >= end || *p != ',')
            return -1;
        p = skip_ws(p + 1, end);
    }
    return -1;
}

int jspan_members(const char *p, size_t n, struct jspan_member *out, int max)
{
    return jspan_members_elements(p, n, out, max, NULL, NULL, 0, NULL);
}
