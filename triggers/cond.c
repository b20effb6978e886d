/* cond.c — compile and evaluate trigger conditions.
 *
 * A condition object is a conjunction of "PATH: TEST" members and the
 * combinators all/any/not. Everything that can be wrong with it (an unknown
 * operator, a bad regex or duration, a wrong argument type) is found here at
 * load, so evaluation never fails: it only answers true or false.
 */
#include "cond.h"
#include "counter.h"
#include "duration.h"
#include "message.h"
#include "util.h"

#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum op_kind {
    OP_EQ,
    OP_NE,
    OP_GT,
    OP_GTE,
    OP_LT,
    OP_LTE,
    OP_IN,
    OP_NIN,
    OP_EXISTS,
    OP_CONTAINS,
    OP_PREFIX,
    OP_GLOB,
    OP_REGEX,
    OP_WITHIN,
    OP_BEFORE
};

static const char *const op_names[] = {"eq",     "ne",       "gt",     "gte",  "lt",    "lte",    "in",    "nin",
                                       "exists", "contains", "prefix", "glob", "regex", "within", "before"};
#define NOPS (sizeof op_names / sizeof op_names[0])

struct op {
    enum op_kind kind;
    json_t *arg;    /* owned reference */
    regex_t re;     /* OP_REGEX */
    int64_t dur_ms; /* OP_WITHIN, OP_BEFORE */
};

enum cond_kind { COND_ALL, COND_ANY, COND_NOT, COND_TEST, COND_COUNT };

struct cond {
    enum cond_kind kind;
    struct cond **kids; /* ALL, ANY, NOT (one) */
    size_t nkids;
    struct path path; /* TEST */
    struct op *ops;
    size_t nops;
    const struct counter *counter; /* COUNT: owned by the set's registry */
    int64_t within_ms;             /* COUNT */
};

static void add_kid(struct cond *c, struct cond *kid)
{
    c->kids = util_xrealloc(c->kids, (c->nkids + 1) * sizeof *c->kids);
    c->kids[c->nkids++] = kid;
}

/* Checks an operator's argument; returns 0 or reports and returns -1. */
static int op_compile(struct op *op, json_t *arg, const char *at, const struct diag *d)
{
    op->arg = json_incref(arg);
    switch (op->kind) {
    case OP_GT:
    case OP_GTE:
    case OP_LT:
    case OP_LTE:
        if (!json_is_number(arg) && !json_is_string(arg))
            return errlist_diag(d, at, "needs a number or a string"), -1;
        return 0;
    case OP_IN:
    case OP_NIN:
        if (!json_is_array(arg))
            return errlist_diag(d, at, "needs a list, such as [\"active\", \"potential\"]"), -1;
        return 0;
    case OP_EXISTS:
        if (!json_is_boolean(arg))
            return errlist_diag(d, at, "needs true or false"), -1;
        return 0;
    case OP_PREFIX:
    case OP_GLOB:
        if (!json_is_string(arg))
            return errlist_diag(d, at, "needs a string"), -1;
        return 0;
    case OP_REGEX: {
        if (!json_is_string(arg))
            return errlist_diag(d, at, "needs a string"), -1;
        int rc = regcomp(&op->re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &op->re, why, sizeof why);
            op->kind = OP_EQ; /* nothing to regfree */
            return errlist_diag(d, at, "is not a valid regular expression: %s", why), -1;
        }
        return 0;
    }
    case OP_WITHIN:
    case OP_BEFORE:
        if (!json_is_string(arg) || duration_parse(json_string_value(arg), &op->dur_ms) != 0)
            return errlist_diag(d, at, "needs a duration such as \"30s\", \"10m\", \"1h\", \"7d\" or \"1h30m\""), -1;
        return 0;
    default: return 0;
    }
}

static struct cond *test_compile(const char *key, json_t *test, const char *at, unsigned flags, const struct diag *d)
{
    char err[256];
    struct cond *c = util_xcalloc(1, sizeof *c);
    c->kind = COND_TEST;
    int bad = 0;
    if (path_compile(&c->path, key, err, sizeof err) != 0) {
        errlist_diag(d, at, "%s", err);
        bad = 1;
    } else if ((flags & COND_EVENT_ONLY) && c->path.root == PATH_CUSTOMER) {
        errlist_diag(d, at, "where is about the event; put conditions on the customer in if");
        bad = 1;
    }
    if (!json_is_object(test)) { /* a literal means equality */
        c->ops = util_xcalloc(1, sizeof *c->ops);
        c->ops[0].kind = OP_EQ;
        c->ops[0].arg = json_incref(test);
        c->nops = 1;
    } else {
        const char *name;
        json_t *arg;
        c->ops = util_xcalloc(json_object_size(test) ? json_object_size(test) : 1, sizeof *c->ops);
        json_object_foreach(test, name, arg)
        {
            char opat[512];
            snprintf(opat, sizeof opat, "%s.%s", at, name);
            size_t k;
            for (k = 0; k < NOPS && strcmp(name, op_names[k]) != 0; k++)
                ;
            if (k == NOPS) {
                char hint[160];
                errlist_diag(d, opat,
                             "unknown operator \"%s\"%s; operators are eq ne gt gte lt lte in nin "
                             "exists contains prefix glob regex within before",
                             name, errlist_hint(hint, sizeof hint, util_nearest(name, op_names, NOPS)));
                bad = 1;
                continue;
            }
            struct op *op = &c->ops[c->nops++];
            op->kind = (enum op_kind)k;
            if (op_compile(op, arg, opat, d) != 0)
                bad = 1;
        }
        if (json_object_size(test) == 0) {
            errlist_diag(d, at, "has no operator");
            bad = 1;
        }
    }
    if (bad) {
        cond_free(c);
        return NULL;
    }
    return c;
}

static struct cond *list_compile(enum cond_kind kind, json_t *list, const char *at, unsigned flags,
                                 struct counters *reg, const struct diag *d)
{
    struct cond *c = util_xcalloc(1, sizeof *c);
    c->kind = kind;
    if (!json_is_array(list) || json_array_size(list) == 0) {
        errlist_diag(d, at, "needs a non-empty list of conditions");
        cond_free(c);
        return NULL;
    }
    size_t i;
    json_t *item;
    int bad = 0;
    json_array_foreach(list, i, item)
    {
        char kat[512];
        snprintf(kat, sizeof kat, "%s[%zu]", at, i);
        struct cond *kid = cond_compile(item, kat, flags, reg, d);
        if (kid)
            add_kid(c, kid);
        else
            bad = 1;
    }
    if (bad) {
        cond_free(c);
        return NULL;
    }
    return c;
}

/* {"count": {"event", "where", "within"}, "gte": N, ...}: the number of
 * such events within the window, compared by the other members. */
static struct cond *count_compile(json_t *j, const char *at, unsigned flags, struct counters *reg, const struct diag *d)
{
    char cat[512];
    snprintf(cat, sizeof cat, "%s.count", at);
    if (reg == NULL || (flags & COND_EVENT_ONLY)) {
        errlist_diag(d, cat, "counts are about the customer: put them in if");
        return NULL;
    }
    struct cond *c = util_xcalloc(1, sizeof *c);
    c->kind = COND_COUNT;
    int bad = (c->counter = counter_register(reg, json_object_get(j, "count"), cat, &c->within_ms, d)) == NULL;
    c->ops = util_xcalloc(json_object_size(j), sizeof *c->ops);
    const char *name;
    json_t *arg;
    json_object_foreach(j, name, arg)
    {
        if (strcmp(name, "count") == 0)
            continue;
        char opat[512];
        snprintf(opat, sizeof opat, "%s.%s", at, name);
        size_t k;
        for (k = 0; k < NOPS && strcmp(name, op_names[k]) != 0; k++)
            ;
        if (k > OP_LTE || !json_is_number(arg)) {
            errlist_diag(d, opat,
                         "a count is compared with eq, ne, gt, gte, lt or lte and a number, such as "
                         "\"gte\": 3");
            bad = 1;
            continue;
        }
        c->ops[c->nops].kind = (enum op_kind)k;
        c->ops[c->nops++].arg = json_incref(arg);
    }
    if (c->nops == 0 && !bad) {
        errlist_diag(d, at, "a count needs a comparison, such as \"gte\": 3");
        bad = 1;
    }
    if (bad) {
        cond_free(c);
        return NULL;
    }
    return c;
}

struct cond *cond_compile(json_t *j, const char *at, unsigned flags, struct counters *reg, const struct diag *d)
{
    if (!json_is_object(j)) {
        errlist_diag(d, at, "must be an object of \"path\": test pairs");
        return NULL;
    }
    if (json_object_get(j, "count"))
        return count_compile(j, at, flags, reg, d);
    struct cond *all = util_xcalloc(1, sizeof *all);
    all->kind = COND_ALL;
    const char *key;
    json_t *v;
    int bad = 0;
    json_object_foreach(j, key, v)
    {
        char kat[512];
        snprintf(kat, sizeof kat, "%s.%s", at, key);
        struct cond *kid;
        if (strcmp(key, "all") == 0 || strcmp(key, "any") == 0) {
            kid = list_compile(key[1] == 'l' ? COND_ALL : COND_ANY, v, kat, flags, reg, d);
        } else if (strcmp(key, "not") == 0) {
            struct cond *inner = cond_compile(v, kat, flags, reg, d);
            kid = NULL;
            if (inner) {
                kid = util_xcalloc(1, sizeof *kid);
                kid->kind = COND_NOT;
                add_kid(kid, inner);
            }
        } else {
            kid = test_compile(key, v, kat, flags, d);
        }
        if (kid)
            add_kid(all, kid);
        else
            bad = 1;
    }
    if (bad) {
        cond_free(all);
        return NULL;
    }
    return all;
}

bool cond_json_equal(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

/* -1, 0, 1 like strcmp; 2 when A and B cannot be ordered. */
static int order(json_t *a, json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b)) {
        int r = strcmp(json_string_value(a), json_string_value(b));
        return r < 0 ? -1 : r > 0;
    }
    return 2;
}

static bool in_list(json_t *v, json_t *list)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) if (cond_json_equal(v, item)) return true;
    return false;
}

static bool contains(json_t *v, json_t *arg)
{
    if (json_is_string(v) && json_is_string(arg))
        return strstr(json_string_value(v), json_string_value(arg)) != NULL;
    return json_is_array(v) && in_list(arg, v);
}

/* The age of timestamp V at CTX's now, in ms; false when V is not a time. */
static bool age_ms(json_t *v, const struct eval_ctx *ctx, int64_t *age)
{
    int64_t t;
    if (json_is_string(v) && message_parse_time(json_string_value(v), &t) == 0) {
        *age = ctx->now_ms - t;
        return true;
    }
    return false;
}

static bool op_eval(const struct op *op, json_t *v, const struct eval_ctx *ctx)
{
    int64_t age;
    if (v == NULL || json_is_null(v)) /* absent: only the negative tests hold */
        return (op->kind == OP_EXISTS && json_is_false(op->arg)) || op->kind == OP_NE || op->kind == OP_NIN;
    switch (op->kind) {
    case OP_EQ: return cond_json_equal(v, op->arg);
    case OP_NE: return !cond_json_equal(v, op->arg);
    case OP_GT: return order(v, op->arg) == 1;
    case OP_GTE: {
        int o = order(v, op->arg);
        return o == 0 || o == 1;
    }
    case OP_LT: return order(v, op->arg) == -1;
    case OP_LTE: {
        int o = order(v, op->arg);
        return o == 0 || o == -1;
    }
    case OP_IN: return in_list(v, op->arg);
    case OP_NIN: return !in_list(v, op->arg);
    case OP_EXISTS: return json_is_true(op->arg);
    case OP_CONTAINS: return contains(v, op->arg);
    case OP_PREFIX:
        return json_is_string(v) &&
               strncmp(json_string_value(v), json_string_value(op->arg), json_string_length(op->arg)) == 0;
    case OP_GLOB: return json_is_string(v) && fnmatch(json_string_value(op->arg), json_string_value(v), 0) == 0;
    case OP_REGEX: return json_is_string(v) && regexec(&op->re, json_string_value(v), 0, NULL, 0) == 0;
    case OP_WITHIN: return age_ms(v, ctx, &age) && age <= op->dur_ms;
    case OP_BEFORE: return age_ms(v, ctx, &age) && age > op->dur_ms;
    }
    return false;
}

static bool ops_hold(const struct cond *c, json_t *v, const struct eval_ctx *ctx)
{
    for (size_t i = 0; i < c->nops; i++)
        if (!op_eval(&c->ops[i], v, ctx))
            return false;
    return true;
}

bool cond_eval(const struct cond *c, const struct eval_ctx *ctx)
{
    switch (c->kind) {
    case COND_ALL:
        for (size_t i = 0; i < c->nkids; i++)
            if (!cond_eval(c->kids[i], ctx))
                return false;
        return true;
    case COND_ANY:
        for (size_t i = 0; i < c->nkids; i++)
            if (cond_eval(c->kids[i], ctx))
                return true;
        return false;
    case COND_NOT: return !cond_eval(c->kids[0], ctx);
    case COND_TEST: return ops_hold(c, path_resolve(&c->path, ctx), ctx);
    case COND_COUNT: {
        json_t *n = json_integer((json_int_t)counter_count(c->counter, ctx, ctx->now_ms - c->within_ms, false));
        bool ok = ops_hold(c, n, ctx);
        json_decref(n);
        return ok;
    }
    }
    return false;
}

void cond_free(struct cond *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nkids; i++)
        cond_free(c->kids[i]);
    free(c->kids);
    for (size_t i = 0; i < c->nops; i++) {
        if (c->ops[i].kind == OP_REGEX)
            regfree(&c->ops[i].re);
        json_decref(c->ops[i].arg);
    }
    free(c->ops);
    path_free(&c->path);
    free(c);
}
