/* email.h — the email action of a trigger (SPEC 3): load it, with its
 * templates compiled and its text_file/html_file read at load, and render
 * it for one firing. Building and sending the message is the daemon's. */
#ifndef NUDGED_EMAIL_H
#define NUDGED_EMAIL_H

#include <jansson.h>
#include <stddef.h>

#include "errlist.h"
#include "path.h"
#include "util.h"

/* Largest text_file or html_file nudged reads. */
#define EMAIL_FILE_MAX (256 * 1024)

struct email_action;

/* One rendered email; every string owned, freed by email_out_free. TEXT or
 * HTML (not both) may be NULL; FROM and REPLY_TO are NULL when not given. */
struct email_out {
    char *to, *subject, *text, *html, *from, *reply_to;
};

/* Loads the email action J found at PATH; files are found from BASEDIR (the
 * trigger file's directory). Returns it (free with email_free) or NULL after
 * reporting every problem through D. */
struct email_action *email_load(json_t *j, const char *path, const struct util_files *files, const struct diag *d);

/* Renders E in CTX into OUT. Returns 0, or -1 with the reason in ERR (a
 * header value that would carry a control character). */
int email_render(const struct email_action *e, const struct eval_ctx *ctx, struct email_out *out, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

void email_out_free(struct email_out *out);
void email_free(struct email_action *e);

#endif
