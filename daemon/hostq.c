/* hostq.c — admission per host, so that curl never holds a transfer it has
 * no connection for. curl 7.88 parks such a transfer as pending and runs
 * its whole connect step again, URL parse and connection-cache search,
 * every time a connection of the host frees up, often only to park it
 * again: under a full queue, a large share of nudged's work. Here a
 * waiting transfer costs nothing until its turn. Hosts live in a small hash table only while they have transfers.
 */
#include "hostq.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BUCKETS 64

struct waiter {
    void *item;
    struct waiter *next;
};

struct host {
    char key[HOSTQ_KEY_MAX];
    size_t running;
    struct waiter *head, *tail; /* the waiting, first come first */
    struct host *next;          /* the bucket's chain */
};

struct hostq {
    size_t per_host;
    struct host *bucket[BUCKETS];
};

/* Appends N bytes of S to KEY at *LEN, lowercased, cut to fit with its NUL. */
static void put_lower(char *key, size_t *len, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *len + 1 < HOSTQ_KEY_MAX; i++)
        key[(*len)++] = (char)tolower((unsigned char)s[i]);
    key[*len] = '\0';
}

static const char *default_port(const char *scheme, size_t n)
{
    static const struct {
        const char *scheme, *port;
    } ports[] = {{"http", "80"}, {"https", "443"}, {"smtp", "25"}, {"smtps", "465"}};
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++)
        if (strlen(ports[i].scheme) == n && strncasecmp(scheme, ports[i].scheme, n) == 0)
            return ports[i].port;
    return "";
}

void hostq_key(const char *url, char key[HOSTQ_KEY_MAX])
{
    size_t len = 0;
    const char *sep = strstr(url, "://");
    key[0] = '\0';
    if (sep == NULL) {
        put_lower(key, &len, url, strlen(url));
        return;
    }
    const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < end; p++) /* user:password@ is not the host */
        if (*p == '@')
            auth = p + 1;
    const char *port = NULL, *host_end = end;
    if (*auth == '[') { /* [IPv6]:port */
        const char *close = memchr(auth, ']', (size_t)(end - auth));
        host_end = close ? close + 1 : end;
        if (host_end < end && *host_end == ':')
            port = host_end + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        if (colon) {
            host_end = colon;
            port = colon + 1;
        }
    }
    put_lower(key, &len, auth, (size_t)(host_end - auth));
    put_lower(key, &len, ":", 1);
    if (port && port < end)
        put_lower(key, &len, port, (size_t)(end - port));
    else {
        const char *dp = default_port(url, (size_t)(sep - url));
        put_lower(key, &len, dp, strlen(dp));
    }
}

static size_t bucket_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

static struct host **find(struct hostq *q, const char *key)
{
    struct host **hp = &q->bucket[bucket_of(key)];
    while (*hp && strcmp((*hp)->key, key) != 0)
        hp = &(*hp)->next;
    return hp;
}

/* Unlinks and frees the host at *HP once nothing runs or waits for it. */
static void drop_if_idle(struct host **hp)
{
    struct host *h = *hp;
    if (h->running > 0 || h->head)
        return;
    *hp = h->next;
    free(h);
}

struct hostq *hostq_new(size_t per_host)
{
    struct hostq *q = util_xcalloc(1, sizeof *q);
    q->per_host = per_host > 0 ? per_host : 1;
    return q;
}

void hostq_free(struct hostq *q)
{
    if (q == NULL)
        return;
    for (size_t b = 0; b < BUCKETS; b++) {
        while (q->bucket[b]) {
            struct host *h = q->bucket[b];
            q->bucket[b] = h->next;
            while (h->head) {
                struct waiter *w = h->head;
                h->head = w->next;
                free(w);
            }
            free(h);
        }
    }
    free(q);
}

bool hostq_admit(struct hostq *q, const char *key, void *item)
{
    struct host **hp = find(q, key);
    if (*hp == NULL) {
        *hp = util_xcalloc(1, sizeof **hp);
        snprintf((*hp)->key, sizeof(*hp)->key, "%s", key);
    }
    struct host *h = *hp;
    if (h->running < q->per_host) {
        h->running++;
        return true;
    }
    struct waiter *w = util_xmalloc(sizeof *w);
    *w = (struct waiter){item, NULL};
    if (h->tail)
        h->tail->next = w;
    else
        h->head = w;
    h->tail = w;
    return false;
}

void *hostq_next(struct hostq *q, const char *key)
{
    struct host **hp = find(q, key);
    struct host *h = *hp;
    if (h == NULL)
        return NULL;
    struct waiter *w = h->head;
    if (w == NULL) {
        if (h->running > 0)
            h->running--;
        drop_if_idle(hp);
        return NULL;
    }
    /* The ended transfer's place goes to the first waiting: running stays. */
    h->head = w->next;
    if (h->head == NULL)
        h->tail = NULL;
    void *item = w->item;
    free(w);
    return item;
}

bool hostq_cancel(struct hostq *q, const char *key, void *item)
{
    struct host **hp = find(q, key);
    struct host *h = *hp;
    if (h == NULL)
        return false;
    struct waiter *prev = NULL;
    for (struct waiter *w = h->head; w; prev = w, w = w->next) {
        if (w->item != item)
            continue;
        if (prev)
            prev->next = w->next;
        else
            h->head = w->next;
        if (h->tail == w)
            h->tail = prev;
        free(w);
        drop_if_idle(hp);
        return true;
    }
    return false;
}

static const struct host *lookup(const struct hostq *q, const char *key)
{
    const struct host *h = q->bucket[bucket_of(key)];
    while (h && strcmp(h->key, key) != 0)
        h = h->next;
    return h;
}

size_t hostq_running(const struct hostq *q, const char *key)
{
    const struct host *h = lookup(q, key);
    return h ? h->running : 0;
}

size_t hostq_waiting(const struct hostq *q, const char *key)
{
    const struct host *h = lookup(q, key);
    size_t n = 0;
    for (const struct waiter *w = h ? h->head : NULL; w; w = w->next)
        n++;
    return n;
}
