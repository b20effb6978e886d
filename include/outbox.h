/* outbox.h — the outbox record: one delivery waiting in a shard's
 * outbox, <prefix>actions:{k}.
 *
 * An actions entry has exactly one field, "delivery": a JSON object of
 * strings, written by a round's commit (daemon/lua/commit.lua) as
 * firing.c builds it, moved there from the schedule when a retry or a postponed
 * email comes due (daemon/lua/due.lua), or written back by nudged
 * redrive. delivery.c reads it. The members:
 *
 *   d          the webhook-id (hashid_delivery): the same on every attempt
 *   trigger    the trigger's id; action: its index among the actions
 *   customer   the customer's id; ets: the event's time, ms
 *   kind       "webhook" or "email" (absent with error)
 *   attempt    the attempt number (left out: 1)
 *   webhook:   url, method (left out: POST), headers (JSON; left out: none),
 *              body, timeout (ms)
 *   email:     to, subject, text, html, from, reply_to, unsubscribe
 *   error      why the action could not be rendered: it goes to dead
 *
 * A member that holds its default is left out when written and read back
 * as the default (outbox_default).
 */
#ifndef NUDGED_OUTBOX_H
#define NUDGED_OUTBOX_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>

#include "jparse.h"

/* The actions entry's one field. */
#define OUTBOX_FIELD "delivery"

/* What method and headers are when left out. */
#define OUTBOX_DEFAULT_METHOD "POST"
#define OUTBOX_DEFAULT_HEADERS "{}"

/* Members a record has at most when nudged writes it. */
#define OUTBOX_MEMBERS 16

/* A record being written: name/value pairs, borrowed, in order. */
struct outbox_record {
    const char *kv[2 * OUTBOX_MEMBERS];
    size_t n;
};

/* Adds NAME: VALUE to R; a NULL VALUE (a default, or nothing) adds nothing. */
void outbox_put(struct outbox_record *r, const char *name, const char *value);

/* R as one JSON object of strings, in R's order: a new string, caller
 * frees. */
char *outbox_json(const struct outbox_record *r);

/* The value a record of KIND (NULL: unknown) holds for NAME when NAME is
 * left out: attempt 1, and for a webhook method POST and headers "{}";
 * NULL for a member without a default. */
const char *outbox_default(const char *kind, const char *name);

/* Puts those defaults into FIELDS (a record as a jansson object) where
 * they are missing. */
void outbox_defaults(json_t *fields);

/* Reads an actions entry's FIELDS (the field/value array of a stream
 * entry) into F. An entry of another shape, or whose JSON is broken or
 * too large, is read as the record dead keeps for it: "error" and what
 * could be kept, so the caller sends it to dead and loses nothing from
 * sight. */
void outbox_read(struct jparse_flat *f, const redisReply *fields);

#endif
