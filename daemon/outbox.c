/* outbox.c — the outbox record, written and read in one place (see
 * outbox.h). */
#include "outbox.h"
#include "util.h"

#include <string.h>

void outbox_put(struct outbox_record *r, const char *name, const char *value)
{
    if (value && r->n + 2 <= 2 * OUTBOX_MEMBERS) {
        r->kv[r->n++] = name;
        r->kv[r->n++] = value;
    }
}

/* By hand: json_dumps would cost nudged more than the one string saves
 * Redis. The values are rendered text, UTF-8 as all of it is. */
char *outbox_json(const struct outbox_record *f)
{
    size_t cap = 3;
    for (size_t k = 0; k < f->n; k++)
        cap += 6 * strlen(f->kv[k]) + 4; /* each byte escaped at worst, quotes, ':' or ',' */
    char *out = util_xmalloc(cap), *o = out;
    *o++ = '{';
    for (size_t k = 0; k < f->n; k++) {
        *o++ = '"';
        o = util_json_escape(o, f->kv[k]);
        *o++ = '"';
        *o++ = k % 2 == 0 ? ':' : k + 1 < f->n ? ',' : '}';
    }
    if (f->n == 0)
        *o++ = '}';
    *o = '\0';
    return out;
}

const char *outbox_default(const char *kind, const char *name)
{
    if (strcmp(name, "attempt") == 0)
        return "1";
    if (kind == NULL || strcmp(kind, "webhook") != 0)
        return NULL;
    return strcmp(name, "method") == 0    ? OUTBOX_DEFAULT_METHOD
           : strcmp(name, "headers") == 0 ? OUTBOX_DEFAULT_HEADERS
                                          : NULL;
}

void outbox_defaults(json_t *fields)
{
    static const char *const names[] = {"attempt", "method", "headers"};
    const char *kind = json_string_value(json_object_get(fields, "kind"));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = outbox_default(kind, names[i]);
        if (v && json_object_get(fields, names[i]) == NULL)
            json_object_set_new(fields, names[i], json_string(v));
    }
}

static void fields_error(struct jparse_flat *f, json_t *why)
{
    if (why == NULL || jparse_flat_from_json(f, why) != 0)
        util_fatal("out of memory"); /* WHY has two members: only memory can fail */
    json_decref(why);
}

/* An actions entry nudged did not write, as dead keeps it: the reason and
 * its own fields (as many as a delivery may have), so nothing of it is lost
 * from sight. */
static json_t *foreign_entry(const redisReply *fields)
{
    json_t *o = json_pack("{s:s}", "error", "an actions entry has exactly one field, \"" OUTBOX_FIELD "\"");
    for (size_t k = 0; o && k + 1 < fields->elements && json_object_size(o) < JPARSE_FLAT_MAX; k += 2)
        if (strcmp(fields->element[k]->str, "error") != 0)
            json_object_set_new(o, fields->element[k]->str,
                                json_stringn(fields->element[k + 1]->str, fields->element[k + 1]->len));
    return o;
}

/* Read without jansson when, as nudged writes it, the record is flat
 * strings. An entry of another shape was not written by nudged: it goes to
 * dead with the reason, never sent on a guess. */
void outbox_read(struct jparse_flat *f, const redisReply *fields)
{
    if (fields->elements != 2 || strcmp(fields->element[0]->str, OUTBOX_FIELD) != 0) {
        fields_error(f, foreign_entry(fields));
        return;
    }
    const redisReply *v = fields->element[1];
    if (jparse_flat_parse(f, v->str, v->len) == 0)
        return;
    json_t *o = jparse_loadb(v->str, v->len, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        fields_error(
            f, json_pack("{s:s, s:s%}", "error", "the delivery is not a JSON object", OUTBOX_FIELD, v->str, v->len));
        return;
    }
    if (jparse_flat_from_json(f, o) != 0)
        fields_error(f, json_pack("{s:s}", "error", "the delivery has more than 32 fields"));
    json_decref(o);
}
