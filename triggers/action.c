/* action.c — the actions a trigger fires: load, check and render them.
 *
 * Every template in an action is compiled here at load, so a firing can only
 * fail on what the data brings (a header that would carry a newline).
 */
#include "action.h"
#include "duration.h"
#include "email.h"
#include "template.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_MAX 256
#define SECRET_FILE_MAX (64 * 1024)

struct webhook {
    struct template *url;
    char *method;
    size_t nheaders;
    char **hname;
    struct template **hval;
    json_t *body;             /* NULL: the standard payload */
    struct template **body_t; /* the body's strings, in walk order */
    size_t nbody_t;
    unsigned char secret[SECRET_MAX];
    size_t secret_len;
    int64_t timeout_ms;
};

struct action {
    enum action_kind kind;
    struct webhook wh;
    struct email_action *email;
    int64_t score;
    json_t *set;
};

static const char *const webhook_keys[] = {"url", "method", "headers", "body", "secret", "secret_file", "timeout"};
#define NWH (sizeof webhook_keys / sizeof webhook_keys[0])

/* Decodes "whsec_<base64>" into the signing key (Standard Webhooks). */
static int decode_secret(const char *s, unsigned char *out, size_t *outlen)
{
    if (strncmp(s, "whsec_", 6) != 0)
        return -1;
    s += 6;
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > SECRET_MAX)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts the padding as zero bytes: take them off. */
    while (n > 0 && s[n - 1] == '=') {
        len--;
        n--;
    }
    *outlen = (size_t)len;
    return 0;
}

static int load_secret(struct webhook *w, json_t *o, const char *at, const struct util_files *files,
                       const struct diag *d)
{
    json_t *sec = json_object_get(o, "secret"), *file = json_object_get(o, "secret_file");
    char p[512];
    if (sec && file)
        return errlist_diag(d, at, "give secret or secret_file, not both"), -1;
    char *text = NULL;
    if (sec) {
        if (!json_is_string(sec))
            return snprintf(p, sizeof p, "%s.secret", at), errlist_diag(d, p, "must be a string (whsec_...)"), -1;
        text = util_xstrdup(json_string_value(sec));
    } else if (file) {
        snprintf(p, sizeof p, "%s.secret_file", at);
        if (!json_is_string(file))
            return errlist_diag(d, p, "must be a file name"), -1;
        char full[1024];
        const char *fn = json_string_value(file);
        if ((text = util_files_read(files, fn, SECRET_FILE_MAX, full, sizeof full)) == NULL)
            return errlist_diag(d, p, "cannot read \"%s\"", full), -1;
        text[strcspn(text, "\r\n")] = '\0'; /* its first line */
    } else {
        return 0;
    }
    int rc = decode_secret(text, w->secret, &w->secret_len);
    free(text);
    if (rc != 0) {
        snprintf(p, sizeof p, "%s.%s", at, sec ? "secret" : "secret_file");
        errlist_diag(d, p, "must be a Standard Webhooks secret: whsec_ followed by base64");
    }
    return rc;
}

/* Compiles every string in J (walk order: the order render uses). */
static int compile_body(struct webhook *w, json_t *j, const char *at, const struct diag *d)
{
    int bad = 0;
    if (json_is_string(j)) {
        struct template *t = template_compile(json_string_value(j), TEMPLATE_TEXT, at, d);
        w->body_t = util_xrealloc(w->body_t, (w->nbody_t + 1) * sizeof *w->body_t);
        w->body_t[w->nbody_t++] = t;
        return t ? 0 : -1;
    }
    char p[512];
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            snprintf(p, sizeof p, "%s.%s", at, k);
            bad |= compile_body(w, v, p, d) != 0;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            snprintf(p, sizeof p, "%s[%zu]", at, i);
            bad |= compile_body(w, v, p, d) != 0;
        }
    }
    return bad ? -1 : 0;
}

static int load_headers(struct webhook *w, json_t *h, const char *at, const struct diag *d)
{
    char p[512];
    const char *k;
    json_t *v;
    int bad = 0;
    if (h == NULL)
        return 0;
    snprintf(p, sizeof p, "%s.headers", at);
    if (!json_is_object(h))
        return errlist_diag(d, p, "must be an object of header name -> text"), -1;
    w->hname = util_xcalloc(json_object_size(h), sizeof *w->hname);
    w->hval = util_xcalloc(json_object_size(h), sizeof *w->hval);
    json_object_foreach(h, k, v)
    {
        snprintf(p, sizeof p, "%s.headers.%s", at, k);
        if (!json_is_string(v) || k[0] == '\0' || strpbrk(k, ": \t\r\n") != NULL) {
            errlist_diag(d, p, "a header needs a name without spaces or colons and a text value");
            bad = 1;
            continue;
        }
        struct template *t = template_compile(json_string_value(v), TEMPLATE_HEADER, p, d);
        if (t == NULL) {
            bad = 1;
            continue;
        }
        w->hname[w->nheaders] = util_xstrdup(k);
        w->hval[w->nheaders++] = t;
    }
    return bad ? -1 : 0;
}

static int load_method_timeout(struct webhook *w, json_t *o, const char *at, const struct diag *d)
{
    char p[512];
    json_t *m = json_object_get(o, "method"), *to = json_object_get(o, "timeout");
    const char *method = m ? json_string_value(m) : "POST";
    int bad = 0;
    if (method == NULL || (strcasecmp(method, "POST") && strcasecmp(method, "PUT") && strcasecmp(method, "PATCH"))) {
        snprintf(p, sizeof p, "%s.method", at);
        errlist_diag(d, p, "must be POST, PUT or PATCH");
        bad = 1;
    } else {
        w->method = util_xstrdup(method);
        for (char *c = w->method; *c; c++)
            *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    }
    w->timeout_ms = 0; /* 0: the [delivery] timeout */
    if (to && (!json_is_string(to) || duration_parse(json_string_value(to), &w->timeout_ms) != 0 ||
               w->timeout_ms < 100 || w->timeout_ms > 300000)) {
        snprintf(p, sizeof p, "%s.timeout", at);
        errlist_diag(d, p, "must be a duration from 100ms to 5m, such as \"10s\"");
        bad = 1;
    }
    return bad ? -1 : 0;
}

static int load_webhook(struct webhook *w, json_t *o, const char *at, const struct util_files *files,
                        const struct diag *d)
{
    char p[512];
    int bad = 0;
    if (!json_is_object(o))
        return errlist_diag(d, at, "must be an object with at least url"), -1;
    bad |= errlist_unknown_keys(d, o, at, webhook_keys, NWH, "a webhook") > 0;
    json_t *url = json_object_get(o, "url");
    snprintf(p, sizeof p, "%s.url", at);
    if (!json_is_string(url) ||
        (strncmp(json_string_value(url), "http://", 7) != 0 && strncmp(json_string_value(url), "https://", 8) != 0)) {
        errlist_diag(d, p, "is required: an http:// or https:// URL");
        bad = 1;
    } else if ((w->url = template_compile(json_string_value(url), TEMPLATE_URL, p, d)) == NULL) {
        bad = 1;
    }
    bad |= load_method_timeout(w, o, at, d) != 0;
    bad |= load_headers(w, json_object_get(o, "headers"), at, d) != 0;
    bad |= load_secret(w, o, at, files, d) != 0;
    if ((w->body = json_object_get(o, "body")) != NULL) {
        json_incref(w->body);
        snprintf(p, sizeof p, "%s.body", at);
        bad |= compile_body(w, w->body, p, d) != 0;
    }
    return bad ? -1 : 0;
}

/* {"traits.NAME": VALUE, ...} and/or {"group": "excluded"}. */
static int load_set(json_t *o, const char *at, const struct diag *d)
{
    char p[512];
    const char *k;
    json_t *v;
    int bad = 0;
    if (!json_is_object(o) || json_object_size(o) == 0)
        return errlist_diag(d, at, "needs {\"traits.NAME\": VALUE} or {\"group\": \"excluded\"}"), -1;
    json_object_foreach(o, k, v)
    {
        snprintf(p, sizeof p, "%s.%s", at, k);
        if (strcmp(k, "group") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), "excluded") != 0) {
                errlist_diag(d, p, "only \"excluded\" can be set; the other groups follow from orders and identity");
                bad = 1;
            }
        } else if (strncmp(k, "traits.", 7) != 0 || k[7] == '\0' || strchr(k + 7, '.') != NULL) {
            errlist_diag(d, p, "can set traits.NAME (one level) or group");
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

struct action *action_load(json_t *j, const char *at, const struct util_files *files, const struct diag *d)
{
    if (!json_is_object(j) || json_object_size(j) != 1) {
        errlist_diag(d, at, "an action is an object with exactly one kind: webhook, email, score or set");
        return NULL;
    }
    const char *kind = json_object_iter_key(json_object_iter(j));
    json_t *body = json_object_iter_value(json_object_iter(j));
    char p[512];
    snprintf(p, sizeof p, "%s.%s", at, kind);
    struct action *a = util_xcalloc(1, sizeof *a);
    if (strcmp(kind, "webhook") == 0) {
        a->kind = ACTION_WEBHOOK;
        if (load_webhook(&a->wh, body, p, files, d) == 0)
            return a;
    } else if (strcmp(kind, "email") == 0) {
        a->kind = ACTION_EMAIL;
        if ((a->email = email_load(body, p, files, d)) != NULL)
            return a;
    } else if (strcmp(kind, "score") == 0) {
        a->kind = ACTION_SCORE;
        if (json_is_integer(body) && json_integer_value(body) > -1000000 && json_integer_value(body) < 1000000) {
            a->score = json_integer_value(body);
            return a;
        }
        errlist_diag(d, p, "needs whole points to add, such as 10 or -5");
    } else if (strcmp(kind, "set") == 0) {
        a->kind = ACTION_SET;
        if (load_set(body, p, d) == 0) {
            a->set = json_incref(body);
            return a;
        }
    } else {
        errlist_diag(d, p, "unknown action kind; an action is webhook, email, score or set");
    }
    action_free(a);
    return NULL;
}

/* Rebuilds the body with every string rendered; *IDX walks body_t. */
static json_t *render_body(const struct webhook *w, json_t *j, size_t *idx, const struct eval_ctx *ctx, char *err,
                           size_t errlen)
{
    if (json_is_string(j)) {
        const struct template *t = w->body_t[(*idx)++];
        int whole;
        json_t *v = template_whole_value(t, ctx, &whole);
        if (whole)
            return v ? json_deep_copy(v) : json_null();
        char *s = template_render(t, ctx, err, errlen);
        if (s == NULL)
            return NULL;
        json_t *str = json_string(s);
        free(s);
        if (str == NULL)
            snprintf(err, errlen, "a rendered body text is not valid UTF-8");
        return str;
    }
    if (json_is_object(j)) {
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            json_t *r = render_body(w, v, idx, ctx, err, errlen);
            if (r == NULL)
                return json_decref(out), NULL;
            json_object_set_new(out, k, r);
        }
        return out;
    }
    if (json_is_array(j)) {
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
            json_t *r = render_body(w, v, idx, ctx, err, errlen);
            if (r == NULL)
                return json_decref(out), NULL;
            json_array_append_new(out, r);
        }
        return out;
    }
    return json_incref(j);
}

/* The customer in it carries their clock, whichever trigger fired. */
static json_t *standard_payload(const struct eval_ctx *ctx)
{
    path_add_local(ctx);
    return json_pack("{s:O, s:O, s:O, s:O}", "trigger", ctx->trigger, "customer", ctx->customer, "event", ctx->event,
                     "timestamp", ctx->now);
}

int action_render(const struct action *a, const struct eval_ctx *ctx, struct action_out *out, char *err, size_t errlen)
{
    const struct webhook *w = &a->wh;
    memset(out, 0, sizeof *out);
    out->kind = a->kind;
    switch (a->kind) {
    case ACTION_EMAIL: return email_render(a->email, ctx, &out->email, err, errlen);
    case ACTION_SCORE: out->score = a->score; return 0;
    case ACTION_SET: out->set = json_incref(a->set); return 0;
    case ACTION_WEBHOOK: break;
    }
    out->timeout_ms = w->timeout_ms;
    out->method = util_xstrdup(w->method);
    out->headers = json_object();
    if ((out->url = template_render(w->url, ctx, err, errlen)) == NULL)
        goto fail;
    for (size_t i = 0; i < w->nheaders; i++) {
        char *v = template_render(w->hval[i], ctx, err, errlen);
        if (v == NULL)
            goto fail;
        json_object_set_new(out->headers, w->hname[i], json_string(v));
        free(v);
    }
    size_t idx = 0;
    json_t *body = w->body ? render_body(w, w->body, &idx, ctx, err, errlen) : standard_payload(ctx);
    if (body == NULL)
        goto fail;
    out->body = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (out->body == NULL) {
        snprintf(err, errlen, "the body cannot be written as JSON");
        goto fail;
    }
    return 0;
fail:
    trigger_action_out_free(out);
    return -1;
}

enum action_kind action_kind(const struct action *a)
{
    return a->kind;
}

int64_t action_timeout_ms(const struct action *a)
{
    return a->kind == ACTION_WEBHOOK ? a->wh.timeout_ms : 0;
}

const unsigned char *action_secret(const struct action *a, size_t *len)
{
    *len = a->wh.secret_len;
    return a->kind == ACTION_WEBHOOK && a->wh.secret_len ? a->wh.secret : NULL;
}

void action_free(struct action *a)
{
    if (a == NULL)
        return;
    struct webhook *w = &a->wh;
    email_free(a->email);
    json_decref(a->set);
    template_free(w->url);
    free(w->method);
    for (size_t i = 0; i < w->nheaders; i++) {
        free(w->hname[i]);
        template_free(w->hval[i]);
    }
    free(w->hname);
    free(w->hval);
    json_decref(w->body);
    for (size_t i = 0; i < w->nbody_t; i++)
        template_free(w->body_t[i]);
    free(w->body_t);
    free(a);
}

void trigger_action_out_free(struct action_out *out)
{
    free(out->url);
    free(out->method);
    free(out->body);
    json_decref(out->headers);
    json_decref(out->set);
    email_out_free(&out->email);
    memset(out, 0, sizeof *out);
}
