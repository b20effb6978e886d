/* test_mail.c — the bytes of an email: headers, encoded-words, quoted-printable, multipart. */
#include "harness.h"
#include "mail.h"
#include "util.h"

#include <openssl/evp.h>

static char *build(const struct mail_in *in, char *err, size_t errlen)
{
    struct buf b;
    util_buf_init(&b, MAIL_MAX);
    if (mail_build(in, &b, err, errlen) != 0) {
        util_buf_free(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

/* Every line ends in CRLF and is at most LIMIT octets (998 by RFC 5322;

 * nudged keeps bodies to 76 and folds headers). */
static int lines_ok(const char *msg, size_t limit)
{
    const char *p = msg;
    while (*p) {
        const char *nl = strstr(p, "\r\n");
        if (nl == NULL || memchr(p, '\n', (size_t)(nl - p)) || (size_t)(nl - p) > limit)
            return 0;
        p = nl + 2;
    }
    return 1;
}

/* Decodes every "=?UTF-8?B?...?=" of HEADER (up to the blank line) and
 * concatenates them. */
static void decode_words(const char *msg, const char *header, char *out, size_t outlen)
{
    const char *p = strstr(msg, header), *end = strstr(msg, "\r\n\r\n");
    size_t n = 0;
    out[0] = '\0';
    while (p && (p = strstr(p, "=?UTF-8?B?")) && p < end) {
        p += 10;
        const char *q = strstr(p, "?=");
        unsigned char dec[200];
        int len = EVP_DecodeBlock(dec, (const unsigned char *)p, (int)(q - p));
        while (len > 0 && q[-1] == '=' && q - p > 0) { /* padding decodes as zero bytes */
            len--;
            q--;
        }
        if (len > 0 && n + (size_t)len < outlen) {
            memcpy(out + n, dec, (size_t)len);
            n += (size_t)len;
            out[n] = '\0';
        }
        p = strstr(p, "?=") + 2;
    }
}

static void test_mail(void)
{
    char err[300], subject[4096] = "", decoded[4096];
    struct mail_in in = {"Winkel <shop@example.nl>",
                         "zoe@example.nl",
                         NULL,
                         "Welkom, Zoë!",
                         "Hallo Zoë = ok\n.hidden\nend \n",
                         NULL,
                         "msg_abc",
                         "https://shop.example/u?c=zoe",
                         1795000000000LL};
    char *m = build(&in, err, sizeof err);
    CHECK(m != NULL, "simple mail builds: %s", err);
    if (m) {
        CHECK(strstr(m, "From: Winkel <shop@example.nl>\r\nTo: zoe@example.nl\r\n") != NULL, "from, to: %s", m);
        CHECK(strstr(m, "Subject: =?UTF-8?B?V2Vsa29tLCBab8OrIQ==?=\r\n") != NULL, "encoded subject: %s", m);
        CHECK(strstr(m, "Date: Wed, 18 Nov 2026 11:06:40 +0000\r\n") != NULL, "date");
        CHECK(strstr(m, "Message-ID: <msg_abc@example.nl>\r\nMIME-Version: 1.0\r\n") != NULL, "message-id");
        CHECK(strstr(m, "List-Unsubscribe: <https://shop.example/u?c=zoe>\r\nList-Unsubscribe-Post: "
                        "List-Unsubscribe=One-Click\r\n") != NULL,
              "list-unsubscribe");
        CHECK(strstr(m, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable") !=
                  NULL,
              "text part");
        CHECK(strstr(m, "\r\n\r\nHallo Zo=C3=AB =3D ok\r\n=2Ehidden\r\nend=20\r\n") != NULL, "qp body: %s", m);
        CHECK(lines_ok(m, 998), "line ends and lengths");
        free(m);
    }
    /* A long German subject: folded encoded-words that never split a character. */
    for (int i = 0; i < 60; i++)
        strcat(subject, "Jürgen ");
    char body[6000];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    in.subject = subject;
    in.text = body;
    in.html = "<p>Hallo Jürgen</p>";
    m = build(&in, err, sizeof err);
    CHECK(m != NULL, "long mail builds: %s", err);
    if (m) {
        decode_words(m, "Subject: ", decoded, sizeof decoded);
        CHECK(strcmp(decoded, subject) == 0, "the subject decodes back: %s", decoded);
        CHECK(lines_ok(m, 78), "no line over 78 octets, headers folded");
        CHECK(strstr(m, "Content-Type: multipart/alternative; boundary=\"=_nudged_msg_abc\"\r\n") != NULL, "multipart");
        CHECK(strstr(m, "\r\n--=_nudged_msg_abc\r\nContent-Type: text/html; charset=utf-8") != NULL, "html part");
        CHECK(strstr(m, "<p>Hallo J=C3=BCrgen</p>") != NULL, "html qp");
        CHECK(strstr(m, "\r\n--=_nudged_msg_abc--\r\n") != NULL, "closing boundary");
        free(m);
    }
    /* Injection attempts in every header a template can reach, and bad addresses. */
    static const struct {
        const char *field, *value, *want;
    } bad[] = {
        {"subject", "Hi\r\nBcc: evil@x.test", "subject carries a control character"},
        {"to", "zoe@example.nl\r\nBcc: evil@x.test", "to carries a control character"},
        {"to", "zoe@example.nl, evil@x.test", "to is not one valid address"},
        {"to", "Zoë <zoe@example.nl>", "to is not one valid address"},
        {"to", "zoe@localhost", "to is not one valid address"},
        {"to", "", "to is not one valid address"},
        {"from", "shop@example.nl\nBcc: evil@x.test", "from carries a control character"},
        {"from", "Shop <shop@example.nl> x", "From is not one valid address"},
        {"reply_to", "help@example.nl\r", "reply_to carries a control character"},
        {"unsubscribe", "https://x.test/\r\nX: y", "unsubscribe_url carries a control character"},
        {"from", "", "no sender"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mail_in b = {"shop@example.nl", "zoe@example.nl", NULL, "Hi", "text", NULL, "msg_x", NULL, 0};
        const char **f = strcmp(bad[i].field, "subject") == 0    ? &b.subject
                         : strcmp(bad[i].field, "to") == 0       ? &b.to
                         : strcmp(bad[i].field, "from") == 0     ? &b.from
                         : strcmp(bad[i].field, "reply_to") == 0 ? &b.reply_to
                                                                 : &b.unsubscribe;
        *f = bad[i].value;
        m = build(&b, err, sizeof err);
        CHECK(m == NULL && strstr(err, bad[i].want) != NULL, "bad %s \"%s\": want \"%s\", got \"%s\"", bad[i].field,
              bad[i].value, bad[i].want, m ? "(built)" : err);
        free(m);
    }
    CHECK(mail_address_valid("a.b+tag@mail.example.co.uk"), "a plain address is valid");
}

int main(void)
{
    test_mail();
    return harness_summary("test_mail");
}
