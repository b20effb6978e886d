/* action.h — one action of a trigger (SPEC 3): load and check it, render it
 * for a firing. Used by trigger.c; the daemon sees only struct action_out. */
#ifndef NUDGED_ACTION_H
#define NUDGED_ACTION_H

#include <jansson.h>

#include "errlist.h"
#include "trigger.h"
#include "util.h"

struct action;

/* Loads the action J found at PATH ("actions[0]"); files and secret_file
 * are found relative to BASEDIR. Returns it (free with action_free) or NULL
 * after reporting every problem through D. */
struct action *action_load(json_t *j, const char *path, const struct util_files *files, const struct diag *d);

int action_render(const struct action *a, const struct eval_ctx *ctx, struct action_out *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

enum action_kind action_kind(const struct action *a);

/* A webhook's own timeout in ms; 0 for other actions and for a webhook
 * that takes [delivery] timeout. */
int64_t action_timeout_ms(const struct action *a);

const unsigned char *action_secret(const struct action *a, size_t *len);

void action_free(struct action *a);

#endif
