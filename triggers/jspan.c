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

/* P at an opening quote: the byte after the closing one, or NULL. A
 * backslash takes the byte after it along. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\')
            p++;
    }
    return NULL;
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

int jspan_members(const char *p, size_t n, struct jspan_member *out, int max)
{
    const char *end = p + n;
    int count = 0;
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
        if ((p = skip_value(v, end)) == NULL)
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

int jspan_elements(const char *p, size_t n, struct jspan *out, int max)
{
    const char *end = p + n;
    int count = 0;
    p = skip_ws(p, end);
    if (p >= end || *p != '[')
        return -1;
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']')
        return skip_ws(p + 1, end) == end ? 0 : -1;
    while (p < end) {
        if (count == max)
            return -1;
        const char *v = p;
        if ((p = skip_value(v, end)) == NULL)
            return -1;
        out[count++] = (struct jspan){v, (size_t)(p - v)};
        p = skip_ws(p, end);
        if (p < end && *p == ']')
            return skip_ws(p + 1, end) == end ? count : -1;
        if (p >= end || *p != ',')
            return -1;
        p = skip_ws(p + 1, end);
    }
    return -1;
}
