/* email.c — the email action: which parts a marketer writes, and how each
 * is escaped. Headers (to, subject, from, reply_to) refuse control
 * characters after rendering; html escapes what it inserts; text is as is. */
#include "email.h"
#include "template.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum part { P_TO, P_SUBJECT, P_TEXT, P_HTML, P_FROM, P_REPLY_TO, NPARTS };

static const char *const part_names[NPARTS] = {"to", "subject", "text", "html", "from", "reply_to"};
static const enum template_escape part_escape[NPARTS] = {TEMPLATE_HEADER, TEMPLATE_HEADER, TEMPLATE_TEXT,
                                                         TEMPLATE_HTML,   TEMPLATE_HEADER, TEMPLATE_HEADER};
static const char *const email_keys[] = {"to", "subject", "text", "text_file", "html", "html_file", "from", "reply_to"};
#define NKEYS (sizeof email_keys / sizeof email_keys[0])

struct email_action {
    struct template *t[NPARTS];
};

static int check_keys(json_t *o, const char *at, const struct diag *d)
{
    const char *k;
    json_t *v;
    int bad = errlist_unknown_keys(d, o, at, email_keys, NKEYS, "an email") > 0;
    json_object_foreach(o, k, v)
    {
        char p[512];
        snprintf(p, sizeof p, "%s.%s", at, k);
        if (!json_is_string(v)) {
            errlist_diag(d, p, "must be a string");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* The text of part P: inline, or read from its *_file. NULL when absent;
 * *BAD set when something is wrong (reported). Caller frees. */
static char *part_text(json_t *o, enum part p, const char *at, const struct util_files *files, const struct diag *d,
                       int *bad)
{
    json_t *inl = json_object_get(o, part_names[p]);
    char fkey[16], path[512], full[1024];
    snprintf(fkey, sizeof fkey, "%s_file", part_names[p]);
    json_t *file = (p == P_TEXT || p == P_HTML) ? json_object_get(o, fkey) : NULL;
    if (inl && file) {
        snprintf(path, sizeof path, "%s.%s", at, fkey);
        errlist_diag(d, path, "give %s or %s, not both", part_names[p], fkey);
        *bad = 1;
        return NULL;
    }
    if (inl)
        return util_xstrdup(json_string_value(inl));
    if (file == NULL)
        return NULL;
    char *text = util_files_read(files, json_string_value(file), EMAIL_FILE_MAX, full, sizeof full);
    if (text == NULL) {
        snprintf(path, sizeof path, "%s.%s", at, fkey);
        errlist_diag(d, path, "cannot read \"%s\" (it must exist and be at most 256 KiB)", full);
        *bad = 1;
    }
    return text;
}

struct email_action *email_load(json_t *o, const char *at, const struct util_files *files, const struct diag *d)
{
    if (!json_is_object(o)) {
        errlist_diag(d, at, "must be an object with at least to, subject and text or html");
        return NULL;
    }
    int bad = check_keys(o, at, d) != 0;
    struct email_action *e = util_xcalloc(1, sizeof *e);
    for (int p = 0; p < NPARTS && !bad; p++) {
        char path[512];
        snprintf(path, sizeof path, "%s.%s", at, part_names[p]);
        char *text = part_text(o, (enum part)p, at, files, d, &bad);
        if (text == NULL) {
            if ((p == P_TO || p == P_SUBJECT) && !bad) {
                errlist_diag(d, path, "is required");
                bad = 1;
            }
            continue;
        }
        if ((e->t[p] = template_compile(text, part_escape[p], path, d)) == NULL)
            bad = 1;
        free(text);
    }
    if (!bad && e->t[P_TEXT] == NULL && e->t[P_HTML] == NULL) {
        errlist_diag(d, at, "needs a body: text, text_file, html or html_file");
        bad = 1;
    }
    if (bad) {
        email_free(e);
        return NULL;
    }
    return e;
}

int email_render(const struct email_action *e, const struct eval_ctx *ctx, struct email_out *out, char *err,
                 size_t errlen)
{
    char **dst[NPARTS] = {&out->to, &out->subject, &out->text, &out->html, &out->from, &out->reply_to};
    memset(out, 0, sizeof *out);
    for (int p = 0; p < NPARTS; p++) {
        if (e->t[p] == NULL)
            continue;
        if ((*dst[p] = template_render(e->t[p], ctx, err, errlen)) == NULL) {
            email_out_free(out);
            return -1;
        }
    }
    return 0;
}

void email_out_free(struct email_out *out)
{
    free(out->to);
    free(out->subject);
    free(out->text);
    free(out->html);
    free(out->from);
    free(out->reply_to);
    memset(out, 0, sizeof *out);
}

void email_free(struct email_action *e)
{
    if (e == NULL)
        return;
    for (int p = 0; p < NPARTS; p++)
        template_free(e->t[p]);
    free(e);
}
