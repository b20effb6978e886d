/* profile.c — apply an event to a customer's profile, and read it back. */
#include "profile.h"
#include "hashid.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void profile_cmd(struct cmd *c, const struct scripts *s, const struct keys *k, const struct message *m, json_t *msg,
                 int64_t now_ms, int64_t ttl_ms, bool want_profile)
{
    unsigned char h[HASHID_DEDUP_LEN];
    hashid_message(m->message_id, h);
    scripts_begin(c, s, SCRIPT_PROFILE, 2);
    cmd_addf(c, "%s{%s}:p", k->prefix, m->customer);
    cmd_addf(c, "%s{%s}:d", k->prefix, m->customer);
    cmd_addcopy(c, h, HASHID_DEDUP_LEN);
    cmd_adds(c, m->name);
    cmd_addi(c, m->ts_ms);
    cmd_addi(c, now_ms);
    cmd_addi(c, PROFILE_DEDUP_WINDOW_MS);
    cmd_addi(c, ttl_ms);
    cmd_adds(c, want_profile ? "1" : "0");
    json_t *traits = m->type == MESSAGE_IDENTIFY ? json_object_get(msg, "traits") : NULL;
    const char *name;
    json_t *v;
    json_object_foreach(traits, name, v) {
        char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (dump == NULL)
            continue;
        cmd_adds(c, name);
        cmd_addf(c, "%s", dump);
        free(dump);
    }
}

static json_t *iso(long long ms)
{
    char buf[40];
    message_format_time(ms, buf, sizeof buf);
    return json_string(buf);
}

static void add_event(json_t *events, const char *name, const char *val)
{
    long long n, first, last;
    if (sscanf(val, "%lld %lld %lld", &n, &first, &last) != 3)
        return;
    json_object_set_new(events, name, json_pack("{s:I, s:o, s:o}", "count", (json_int_t)n, "first", iso(first),
                                                "last", iso(last)));
}

json_t *profile_view(const char *id, const redisReply *fields)
{
    json_t *traits = json_object(), *events = json_object();
    json_t *view = json_pack("{s:s, s:o, s:o}", "id", id, "traits", traits, "events", events);
    for (size_t i = 0; fields && i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strncmp(k->str, "e:", 2) == 0) {
            add_event(events, k->str + 2, v->str);
        } else if (strncmp(k->str, "t:", 2) == 0) {
            json_t *tv = json_loadb(v->str, v->len, JSON_DECODE_ANY, NULL);
            json_object_set_new(traits, k->str + 2, tv ? tv : json_stringn(v->str, v->len));
        } else if (strcmp(k->str, "fs") == 0 || strcmp(k->str, "ls") == 0) {
            json_object_set_new(view, k->str[0] == 'f' && k->str[1] == 's' ? "first_seen" : "last_seen",
                                iso(strtoll(v->str, NULL, 10)));
        }
    }
    return view;
}
