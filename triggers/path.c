/* path.c — compile dotted paths once at load, resolve them per evaluation. */
#include "path.h"
#include "customer.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum path_root root;
    const char *implied; /* a segment the short form stands for */
} roots[] = {
    {"event", PATH_EVENT, NULL},       {"properties", PATH_EVENT, "properties"},
    {"customer", PATH_CUSTOMER, NULL}, {"trigger", PATH_TRIGGER, NULL},
    {"now", PATH_NOW, NULL},
};

static void push(struct path *p, const char *s, size_t n)
{
    p->seg = util_xrealloc(p->seg, (p->n + 1) * sizeof *p->seg);
    p->seg[p->n++] = util_xstrndup(s, n);
}

int path_compile(struct path *p, const char *text, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    const char *dot = strchr(text, '.');
    size_t first = dot ? (size_t)(dot - text) : strlen(text);
    size_t i;
    for (i = 0; i < sizeof roots / sizeof roots[0]; i++)
        if (strlen(roots[i].name) == first && strncmp(text, roots[i].name, first) == 0)
            break;
    if (i == sizeof roots / sizeof roots[0]) {
        snprintf(err, errlen,
                 "\"%.*s\" is not a known root: a path starts with event, properties, customer, trigger or now",
                 (int)first, text);
        return -1;
    }
    p->root = roots[i].root;
    if (roots[i].implied)
        push(p, roots[i].implied, strlen(roots[i].implied));
    for (const char *s = dot; s; s = dot) {
        s++;
        dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (n == 0) {
            snprintf(err, errlen, "path \"%s\" has an empty part", text);
            path_free(p);
            return -1;
        }
        push(p, s, n);
    }
    if (p->root == PATH_NOW && p->n > 0) {
        snprintf(err, errlen, "now has no parts: write {{now}}");
        path_free(p);
        return -1;
    }
    if (p->root == PATH_CUSTOMER && p->n > 0 && strcmp(p->seg[0], "local") == 0 &&
        (p->n != 2 || !customer_local_part(p->seg[1]))) {
        snprintf(err, errlen, "customer.local has hour, weekday and date: write customer.local.hour, for instance");
        path_free(p);
        return -1;
    }
    return 0;
}

static bool is_local(const struct path *p)
{
    return p->root == PATH_CUSTOMER && p->n == 2 && strcmp(p->seg[0], "local") == 0;
}

void path_add_local(const struct eval_ctx *ctx)
{
    if (ctx->customer == NULL || json_object_get(ctx->customer, "local"))
        return;
    const char *zone = json_string_value(json_object_get(ctx->customer, "timezone"));
    int32_t offset = ctx->zone ? ctx->zone->offset(ctx->zone->data, zone, ctx->now_ms) : 0;
    customer_add_local(ctx->customer, ctx->now_ms, offset);
}

static bool same_path(const struct path *a, const struct path *b)
{
    if (a == b)
        return true;
    if (a->root != b->root || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->seg[i], b->seg[i]) != 0)
            return false;
    return true;
}

static json_t *walk(const struct path *p, const struct eval_ctx *ctx)
{
    json_t *v = NULL;
    switch (p->root) {
    case PATH_EVENT: v = ctx->event; break;
    case PATH_CUSTOMER: v = ctx->customer; break;
    case PATH_TRIGGER: v = ctx->trigger; break;
    case PATH_NOW: return ctx->now;
    }
    for (size_t i = 0; i < p->n && v; i++)
        v = json_object_get(v, p->seg[i]);
    return v;
}

json_t *path_resolve(const struct path *p, const struct eval_ctx *ctx)
{
    if (is_local(p))
        path_add_local(ctx);
    struct path_memo *m = p->root == PATH_EVENT ? ctx->memo : NULL;
    if (m == NULL)
        return walk(p, ctx);
    for (size_t i = 0; i < m->n; i++)
        if (same_path(m->e[i].p, p))
            return m->e[i].v;
    json_t *v = walk(p, ctx);
    if (m->n < PATH_MEMO_MAX) {
        m->e[m->n].p = p;
        m->e[m->n++].v = v;
    }
    return v;
}

void path_free(struct path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->seg[i]);
    free(p->seg);
    p->seg = NULL;
    p->n = 0;
}
