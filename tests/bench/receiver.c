/* receiver.c — a fast webhook receiver for `make bench` (libevent evhttp).
 *
 * Answers 200 to every request and counts it. A body holding "id":"<ms>-<n>"
 * (a stream entry id) gives one event-to-delivery latency sample: arrival
 * time minus the entry's time. On SIGTERM it writes "count N" and the
 * samples, one a line, to the file given, and exits.
 * Usage: receiver PORT OUTFILE
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct recv_state {
    unsigned long count;
    long long *lat;
    size_t n, cap;
    const char *out;
    struct event_base *base;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct recv_state *st = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char body[512];
    size_t n = len < sizeof body - 1 ? len : sizeof body - 1;
    evbuffer_copyout(in, body, n);
    body[n] = '\0';
    st->count++;
    const char *id = strstr(body, "\"id\":\"");
    long long ms;
    if (id && sscanf(id + 6, "%lld-", &ms) == 1 && strchr(id + 6, '-')) {
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 65536;
            st->lat = realloc(st->lat, st->cap * sizeof *st->lat);
            if (st->lat == NULL)
                abort();
        }
        st->lat[st->n++] = now_ms() - ms;
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
    struct recv_state *st = arg;
    (void)fd;
    (void)what;
    FILE *f = fopen(st->out, "w");
    if (f) {
        fprintf(f, "count %lu\n", st->count);
        for (size_t i = 0; i < st->n; i++)
            fprintf(f, "%lld\n", st->lat[i]);
        fclose(f);
    }
    event_base_loopbreak(st->base);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: receiver PORT OUTFILE\n");
        return 2;
    }
    struct recv_state st = {0};
    st.out = argv[2];
    st.base = event_base_new();
    struct evhttp *http = evhttp_new(st.base);
    evhttp_set_gencb(http, on_request, &st);
    if (evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1])) != 0) {
        fprintf(stderr, "receiver: cannot bind\n");
        return 1;
    }
    struct event *term = evsignal_new(st.base, SIGTERM, on_term, &st);
    event_add(term, NULL);
    event_base_dispatch(st.base);
    event_free(term);
    evhttp_free(http);
    event_base_free(st.base);
    free(st.lat);
    return 0;
}
