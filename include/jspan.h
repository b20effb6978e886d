/* jspan.h — where the members of an object and the elements of an array
 * are in JSON text already known to be valid, without building values: so
 * the collector can store a client's message as the client wrote it, with
 * a few members cut out or added, instead of serialising it again. */
#ifndef NUDGED_JSPAN_H
#define NUDGED_JSPAN_H

#include <stdbool.h>
#include <stddef.h>

struct jspan {
    const char *p;
    size_t n;
};

/* One member: KEY is the raw text between the key's quotes (RAW_KEY false
 * when it holds an escape, so it cannot be compared as bytes); VALUE the
 * value's text. */
struct jspan_member {
    struct jspan key, value;
    bool raw_key;
};

/* The members of the object whose text is P, N bytes (whitespace around it
 * allowed), into OUT (at most MAX). Returns how many, or -1 when the text
 * is not an object or has more than MAX members. P must be valid JSON. */
int jspan_members(const char *p, size_t n, struct jspan_member *out, int max);

/* The elements of the array whose text is P, N bytes, into OUT (at most
 * MAX). Returns how many, or -1 when it is not an array or has more. */
int jspan_elements(const char *p, size_t n, struct jspan *out, int max);

#endif
