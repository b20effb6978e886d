/* duration.c — parse the DURATION form shared by config and trigger files. */
#include "duration.h"

#include <ctype.h>
#include <string.h>

static int64_t unit_ms(const char **p)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].name);
        /* "ms" is listed before "m", so "m" never swallows it. */
        if (strncmp(*p, units[i].name, n) == 0) {
            *p += n;
            return units[i].ms;
        }
    }
    return 0;
}

int duration_parse(const char *s, int64_t *out)
{
    const char *p = s;
    int64_t total = 0;
    if (s == NULL || *s == '\0')
        return -1;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > 100000000)
                return -1;
            n = n * 10 + (*p++ - '0');
        }
        int64_t ms = unit_ms(&p);
        if (ms == 0 || n > INT64_MAX / ms || total > INT64_MAX - n * ms)
            return -1;
        total += n * ms;
    }
    *out = total;
    return 0;
}
