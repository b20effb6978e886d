/* mail.c — the bytes of one email, safe by construction: every header value
 * is checked for control characters (so no template can inject a header),
 * non-ASCII header text becomes RFC 2047 encoded-words, and bodies are
 * quoted-printable, so no line passes 76 octets and no line starts with a
 * dot. The multipart boundary contains "=_", which quoted-printable text
 * can never contain. */
#include "mail.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define QP_LINE 76
#define WORD_BYTES 45  /* raw bytes per B encoded-word: 60 base64 chars, 72 in all */
#define FIRST_BYTES 39 /* the first word shares its line with "Reply-To: " */

static bool has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool ascii_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

bool mail_address_valid(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);
    if (at == NULL || strchr(at + 1, '@') || at == s || at - s > 64 || n > 254 || at[1] == '\0')
        return false;
    for (const char *p = s; p < at; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("<>()[]\\,;:\"", *p))
            return false;
    const char *d = at + 1;
    if (strchr(d, '.') == NULL || d[0] == '.' || d[0] == '-' || s[n - 1] == '.' || strstr(d, ".."))
        return false;
    for (const char *p = d; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

int mail_split(const char *s, char *addr, size_t addrlen, char *name, size_t namelen)
{
    const char *lt = strrchr(s, '<');
    name[0] = '\0';
    if (lt == NULL) {
        if (strlen(s) >= addrlen)
            return -1;
        snprintf(addr, addrlen, "%s", s);
    } else {
        const char *gt = strchr(lt, '>');
        if (gt == NULL || gt[1] != '\0' || (size_t)(gt - lt - 1) >= addrlen)
            return -1;
        snprintf(addr, addrlen, "%.*s", (int)(gt - lt - 1), lt + 1);
        size_t nl = (size_t)(lt - s);
        while (nl > 0 && s[nl - 1] == ' ')
            nl--;
        if (nl >= namelen)
            return -1;
        snprintf(name, namelen, "%.*s", (int)nl, s);
    }
    return mail_address_valid(addr) ? 0 : -1;
}

/* Appends TEXT as RFC 2047 B encoded-words of whole UTF-8 characters,
 * folded one word a line. */
static int encode_words(struct buf *b, const char *text)
{
    size_t n = strlen(text), i = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        size_t max = i == 0 ? FIRST_BYTES : WORD_BYTES;
        size_t take = n - i < max ? n - i : max;
        while (take > 1 && i + take < n && ((unsigned char)text[i + take] & 0xc0) == 0x80)
            take--; /* never split a UTF-8 character across two words */
        unsigned char enc[4 * WORD_BYTES / 3 + 8];
        EVP_EncodeBlock(enc, (const unsigned char *)text + i, (int)take);
        rc = util_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", (const char *)enc);
        i += take;
    }
    return rc;
}

/* Header text: as is when printable ASCII and short, else encoded-words. */
static int header_text(struct buf *b, const char *text)
{
    if (ascii_printable(text) && strlen(text) <= 900)
        return util_buf_adds(b, text);
    return encode_words(b, text);
}

/* "Name <addr>" with the name encoded when needed, or "addr". */
static int header_address(struct buf *b, const char *field, const char *value, char *err, size_t errlen)
{
    char addr[256], name[256];
    if (mail_split(value, addr, sizeof addr, name, sizeof name) != 0) {
        snprintf(err, errlen, "%s is not one valid address: \"%.100s\"", field, value);
        return -1;
    }
    int rc = util_buf_printf(b, "%s: ", field);
    if (name[0]) {
        if (ascii_printable(name) && strpbrk(name, "\"\\()<>[]:;@,.") == NULL)
            rc |= util_buf_adds(b, name);
        else
            rc |= encode_words(b, name);
        rc |= util_buf_printf(b, " <%s>\r\n", addr);
    } else {
        rc |= util_buf_printf(b, "%s\r\n", addr);
    }
    return rc;
}

/* Appends TEXT as quoted-printable with CRLF line ends; a line never passes
 * 76 octets and never starts with a dot. */
static int quoted_printable(struct buf *b, const char *text)
{
    int rc = 0;
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && rc == 0; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (*p == '\n') {
            rc = util_buf_adds(b, "\r\n");
            col = 0;
            continue;
        }
        char enc[4];
        bool line_end = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        bool plain = (*p >= 33 && *p <= 126 && *p != '=' && !(*p == '.' && col == 0)) ||
                     ((*p == ' ' || *p == '\t') && !line_end);
        if (plain)
            snprintf(enc, sizeof enc, "%c", *p);
        else
            snprintf(enc, sizeof enc, "=%02X", *p);
        size_t len = strlen(enc);
        if (col + len > QP_LINE - 1) { /* room for the soft break "=" */
            rc |= util_buf_adds(b, "=\r\n");
            col = 0;
            if (*p == '.')
                snprintf(enc, sizeof enc, "=2E"), len = 3;
        }
        rc |= util_buf_add(b, enc, len);
        col += len;
    }
    return rc | util_buf_adds(b, "\r\n");
}

static int part(struct buf *b, const char *type, const char *text)
{
    return util_buf_printf(b, "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
                           type) |
           quoted_printable(b, text);
}

static int body(struct buf *b, const struct mail_in *in)
{
    if (in->text == NULL || in->html == NULL)
        return part(b, in->text ? "text/plain" : "text/html", in->text ? in->text : in->html);
    int rc = util_buf_printf(b, "Content-Type: multipart/alternative; boundary=\"=_nudged_%s\"\r\n\r\n", in->id);
    rc |= util_buf_printf(b, "--=_nudged_%s\r\n", in->id) | part(b, "text/plain", in->text);
    rc |= util_buf_printf(b, "--=_nudged_%s\r\n", in->id) | part(b, "text/html", in->html);
    return rc | util_buf_printf(b, "--=_nudged_%s--\r\n", in->id);
}

static int check(const struct mail_in *in, char *err, size_t errlen)
{
    const char *names[] = {"from", "to", "reply_to", "subject", "unsubscribe_url"};
    const char *values[] = {in->from, in->to, in->reply_to, in->subject, in->unsubscribe};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (has_control(values[i])) {
            snprintf(err, errlen, "%s carries a control character (CR, LF or other): refused", names[i]);
            return -1;
        }
    if (in->from == NULL || in->from[0] == '\0') {
        snprintf(err, errlen, "no sender: set [smtp] from or the action's from");
        return -1;
    }
    if (in->to == NULL || !mail_address_valid(in->to)) {
        snprintf(err, errlen, "to is not one valid address: \"%.100s\"", in->to ? in->to : "");
        return -1;
    }
    if (in->text == NULL && in->html == NULL) {
        snprintf(err, errlen, "the email has no body");
        return -1;
    }
    return 0;
}

int mail_build(const struct mail_in *in, struct buf *out, char *err, size_t errlen)
{
    if (check(in, err, errlen) != 0)
        return -1;
    char date[64], addr[256], name[256];
    time_t t = (time_t)(in->date_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    int rc = header_address(out, "From", in->from, err, errlen);
    if (rc != 0)
        return -1;
    if (header_address(out, "To", in->to, err, errlen) != 0 ||
        (in->reply_to && header_address(out, "Reply-To", in->reply_to, err, errlen) != 0))
        return -1;
    rc = mail_split(in->from, addr, sizeof addr, name, sizeof name);
    rc |=
        util_buf_adds(out, "Subject: ") | header_text(out, in->subject ? in->subject : "") | util_buf_adds(out, "\r\n");
    rc |= util_buf_printf(out, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n", date, in->id,
                          strchr(addr, '@') + 1);
    if (in->unsubscribe)
        rc |= util_buf_printf(out, "List-Unsubscribe: <%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
                              in->unsubscribe);
    rc |= body(out, in);
    if (rc != 0) {
        snprintf(err, errlen, "the message is longer than %d bytes", MAIL_MAX);
        return -1;
    }
    return 0;
}
