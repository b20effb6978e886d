/* rounds.c — which round of a batch each event runs in (see rounds.h). */
#include "rounds.h"

#include <jansson.h>
#include <string.h>

/* The identity ID stands for within this batch: ids linked by a merge in
 * the batch are one (a tiny union-find over a JSON object). */
static const char *identity(json_t *links, const char *id)
{
    const char *up;
    for (int hops = 0; hops < 8 && (up = json_string_value(json_object_get(links, id))) != NULL; hops++)
        id = up;
    return id;
}

unsigned rounds_assign(struct entry *e, size_t n)
{
    unsigned nrounds = 1;
    json_t *seen = json_object(), *links = json_object();
    for (size_t i = 0; i < n; i++) {
        if (e[i].valid && e[i].m.merge_from) {
            const char *from = identity(links, e[i].m.merge_from), *to = identity(links, e[i].m.customer);
            if (strcmp(from, to) != 0)
                json_object_set_new(links, from, json_string(to));
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!e[i].valid)
            continue;
        const char *who = identity(links, e[i].m.customer);
        json_int_t k = json_integer_value(json_object_get(seen, who));
        e[i].round = (unsigned)k;
        json_object_set_new(seen, who, json_integer(k + 1));
        if (e[i].round + 1 > nrounds)
            nrounds = e[i].round + 1;
    }
    json_decref(seen);
    json_decref(links);
    return nrounds;
}
