/* jspan.h — where the members of an object and the elements of an array
 * are in JSON text, without building values: so the collector can store a
 * client's message as the client wrote it, with a few members cut out or
 * added, instead of serialising it again. Only the structure between the
 * spans is checked; what is inside them is checked by jparse. */
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
 * allowed, nothing else after it), into OUT (at most MAX). Returns how
 * many, or -1 when the text is not one object or has more than MAX
 * members. Only the structure is checked: the members' text is the
 * caller's to check (jparse). */
int jspan_members(const char *p, size_t n, struct jspan_member *out, int max);

/* As jspan_members, and when the member named KEY (raw) holds an array,
 * its elements into ELEMS (at most MAXE; *NE how many, -1 when there
 * were more or no such array), found in the same pass: for a batch's
 * messages. */
int jspan_members_elements(const char *p, size_t n, struct jspan_member *out, int max, const char *key,
                           struct jspan *elems, int maxe, int *ne);

#endif
