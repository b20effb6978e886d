/* receiver.c — a fast webhook receiver for `make bench` (epoll, HTTP/1.1).
 *
 * Answers 200 to every request and counts it. A body holding "id":"<ms>-<n>"
 * (a stream entry id) gives one event-to-delivery latency sample: arrival
 * time minus the entry's time. On SIGTERM it writes "count N" and the
 * samples, one a line, to the file given, and exits.
 *
 * It shares the bench machine's two cores with Redis and nudged, so it is
 * kept lean: each readable connection is read once, every complete request
 * in it is answered by one write, and nothing is allocated per request.
 * (With evhttp, which parses every header into a list and re-arms the
 * socket for each reply, it took 17% of a core during the drain.) It
 * speaks what a webhook sender sends: requests with a Content-Length body,
 * or none, on keep-alive connections; anything else is answered 400 and
 * the connection closed.
 * Usage: receiver PORT OUTFILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024) /* a longer request is refused */

static const char ok_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char bad_reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

struct conn {
    struct conn *prev, *next; /* every open connection, freed at exit */
    int fd;
    char *buf; /* bytes read and not yet answered */
    size_t len, cap;
};

struct recv_state {
    struct conn *conns;
    unsigned long count;
    long long *lat;
    size_t n, cap;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "receiver: out of memory\n");
        exit(1);
    }
    return p;
}

/* Counts a request and takes its latency sample, if its BODY has one. */
static void record(struct recv_state *st, const char *body, size_t len)
{
    static const char key[] = "\"id\":\"";
    st->count++;
    const char *id = memmem(body, len, key, sizeof key - 1);
    if (id == NULL)
        return;
    const char *p = id + sizeof key - 1, *end = body + len;
    long long ms = 0;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        ms = ms * 10 + (*p++ - '0');
    if (p == digits || p == end || *p != '-')
        return;
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 65536;
        st->lat = xrealloc(st->lat, st->cap * sizeof *st->lat);
    }
    st->lat[st->n++] = now_ms() - ms;
}

/* The value of header NAME in the head H (LEN bytes), or NULL. */
static const char *header(const char *h, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = h, *end = h + len; p < end;) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            return p + nl + 1;
        p = eol + 1;
    }
    return NULL;
}

/* The answers of one read, written at once. */
struct out {
    char buf[4096];
    size_t len;
    int failed;
};

/* A 38-byte reply fits an empty socket buffer: the client reads each answer
 * before it sends again. A short write means it stopped reading. */
static void flush(int fd, struct out *o)
{
    if (o->len && write(fd, o->buf, o->len) != (ssize_t)o->len)
        o->failed = 1;
    o->len = 0;
}

static void put(int fd, struct out *o, const char *s, size_t n)
{
    if (o->len + n > sizeof o->buf) /* curl sends one request at a time; a pipelining client may not */
        flush(fd, o);
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Answers the complete requests in C's buffer; returns -1 to close C. */
static int serve(struct recv_state *st, struct conn *c)
{
    struct out o = {.len = 0};
    size_t off = 0;
    int rc = 0;
    for (;;) {
        char *head = c->buf + off, *end = memmem(head, c->len - off, "\r\n\r\n", 4);
        if (end == NULL)
            break;
        size_t hlen = (size_t)(end - head) + 4, blen = 0;
        const char *cl = header(head, hlen, "Content-Length");
        if (header(head, hlen, "Transfer-Encoding")) {
            rc = -1;
        } else if (cl) {
            char *e;
            unsigned long long v = strtoull(cl, &e, 10);
            if (e == cl || v > MAX_REQUEST)
                rc = -1;
            blen = (size_t)v;
        }
        if (rc < 0) {
            put(c->fd, &o, bad_reply, sizeof bad_reply - 1);
            break;
        }
        if (c->len - off < hlen + blen)
            break; /* the body is still coming */
        record(st, head + hlen, blen);
        off += hlen + blen;
        put(c->fd, &o, ok_reply, sizeof ok_reply - 1);
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    flush(c->fd, &o);
    if (o.failed || c->len >= MAX_REQUEST)
        rc = -1;
    return rc;
}

/* Reads what C has; returns -1 when C is to be closed. */
static int on_readable(struct recv_state *st, struct conn *c)
{
    if (c->cap - c->len < 4096) {
        c->cap = c->cap ? c->cap * 2 : 16384;
        c->buf = xrealloc(c->buf, c->cap);
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0)
        return -1;
    c->len += (size_t)n;
    return serve(st, c);
}

static void conn_open(struct recv_state *st, int ep, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* a reply goes out when written */
    struct conn *c = xrealloc(NULL, sizeof *c);
    *c = (struct conn){.fd = fd, .next = st->conns};
    if (st->conns)
        st->conns->prev = c;
    st->conns = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Closing the fd also takes it out of the epoll set. */
static void conn_close(struct recv_state *st, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        st->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    close(c->fd);
    free(c->buf);
    free(c);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 512) != 0)
        return -1;
    return fd;
}

static void write_out(const struct recv_state *st, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "receiver: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "count %lu\n", st->count);
    for (size_t i = 0; i < st->n; i++)
        fprintf(f, "%lld\n", st->lat[i]);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: receiver PORT OUTFILE\n");
        return 2;
    }
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    int lfd = listen_on(atoi(argv[1])), sfd = signalfd(-1, &term, SFD_NONBLOCK), ep = epoll_create1(0);
    if (lfd < 0 || sfd < 0 || ep < 0) {
        fprintf(stderr, "receiver: cannot listen on port %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    /* The listener and the signal are told apart from connections by
     * their data: NULL and &sfd; a connection's data is its struct conn. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &sfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    struct recv_state st = {0};
    struct epoll_event evs[64];
    for (int running = 1; running;) {
        int n = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &sfd) {
                running = 0;
            } else if (p == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                    conn_open(&st, ep, fd);
            } else if (on_readable(&st, p) != 0) {
                conn_close(&st, p);
            }
        }
    }
    write_out(&st, argv[2]);
    while (st.conns)
        conn_close(&st, st.conns);
    free(st.lat);
    close(ep);
    close(sfd);
    close(lfd);
    return 0;
}
