/* test_hostq.c — admission per host: host keys from URLs, the queue's turns. */
#include "harness.h"
#include "hostq.h"

static void test_host_keys(void)
{
    static const struct {
        const char *url, *key;
    } cases[] = {
        {"http://Hooks.Example.COM/x?y=1", "hooks.example.com:80"},
        {"https://hooks.example.com", "hooks.example.com:443"},
        {"HTTPS://hooks.example.com:8443/a/b", "hooks.example.com:8443"},
        {"http://user:p%40ss@h.example:81/", "h.example:81"},
        {"http://a@b@c.example/", "c.example:80"},
        {"http://[::1]:8080/hook", "[::1]:8080"},
        {"http://[::1]/hook", "[::1]:80"},
        {"http://127.0.0.1:9000#frag", "127.0.0.1:9000"},
        {"http://h.example?q=a:b@c", "h.example:80"},
        {"smtp://mail.example", "mail.example:25"},
        {"smtps://mail.example", "mail.example:465"},
        {"gopher://g.example", "g.example:"},
        {"no-scheme", "no-scheme"},
    };
    char key[HOSTQ_KEY_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hostq_key(cases[i].url, key);
        CHECK_STR(key, cases[i].key, cases[i].url);
    }
    char url[600] = "http://";
    memset(url + 7, 'a', 500);
    url[507] = '\0';
    hostq_key(url, key);
    CHECK(strlen(key) == HOSTQ_KEY_MAX - 1, "a host too long for a key is cut to fit: %zu", strlen(key));
}

/* Two transfers at once a host, the rest in order; hosts apart; a waiting
 * one taken out; a host forgotten once idle (ASan would see it leak). */
static void test_host_queue(void)
{
    struct hostq *q = hostq_new(2);
    int t[6];
    const char *a = "a:80", *b = "b:80";
    CHECK(hostq_admit(q, a, &t[0]) && hostq_admit(q, a, &t[1]), "the first two of a host start");
    CHECK(!hostq_admit(q, a, &t[2]) && !hostq_admit(q, a, &t[3]) && !hostq_admit(q, a, &t[4]),
          "the third and later wait");
    CHECK(hostq_admit(q, b, &t[5]), "another host is not held up");
    CHECK(hostq_running(q, a) == 2 && hostq_waiting(q, a) == 3, "a: 2 running, 3 waiting, got %zu, %zu",
          hostq_running(q, a), hostq_waiting(q, a));
    CHECK(hostq_cancel(q, a, &t[3]), "a waiting transfer can be taken out");
    CHECK(!hostq_cancel(q, a, &t[3]) && !hostq_cancel(q, a, &t[0]), "only a waiting one, and once");
    CHECK(hostq_next(q, a) == &t[2], "the first waiting takes the turn");
    CHECK(hostq_next(q, a) == &t[4], "then the next, skipping the one taken out");
    CHECK(hostq_running(q, a) == 2 && hostq_waiting(q, a) == 0, "turns passed keep two running");
    CHECK(hostq_next(q, a) == NULL && hostq_next(q, a) == NULL, "nothing waits");
    CHECK(hostq_running(q, a) == 0, "and nothing runs: %zu", hostq_running(q, a));
    CHECK(hostq_next(q, a) == NULL && hostq_running(q, a) == 0, "an end too many changes nothing");
    CHECK(hostq_admit(q, a, &t[0]), "an idle host starts again at once");
    CHECK(hostq_next(q, "c:80") == NULL && !hostq_cancel(q, "c:80", &t[0]), "an unknown host has nothing");
    /* Many hosts, chained in the buckets, each its own count. */
    char key[32];
    int wrong = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "h%d:80", i);
        wrong += !(hostq_admit(q, key, &t[0]) && hostq_admit(q, key, &t[1]) && !hostq_admit(q, key, &t[2]));
    }
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "h%d:80", i);
        wrong += !(hostq_next(q, key) == &t[2] && hostq_waiting(q, key) == 0 && hostq_running(q, key) == 2);
    }
    CHECK(wrong == 0, "300 hosts: two start and the third waits for each, then takes its turn: %d wrong", wrong);
    hostq_free(q); /* frees what still runs or waits: b, a and every h */
}

int main(void)
{
    test_host_keys();
    test_host_queue();
    return harness_summary("test_hostq");
}
