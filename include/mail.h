/* mail.h — an RFC 5322 message built by nudged for one email delivery:
 * headers (RFC 2047 encoded-words when not ASCII), UTF-8 bodies in
 * quoted-printable, multipart/alternative for text plus html, List-
 * Unsubscribe (RFC 8058). Pure: the caller passes the time. */
#ifndef NUDGED_MAIL_H
#define NUDGED_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Longest message nudged builds. */
#define MAIL_MAX (4 * 1024 * 1024)

struct mail_in {
    const char *from;     /* "addr" or "Name <addr>" */
    const char *to;       /* one bare address */
    const char *reply_to; /* NULL, "addr" or "Name <addr>" */
    const char *subject;
    const char *text, *html; /* at least one */
    const char *id;          /* the delivery id: Message-ID and boundary */
    const char *unsubscribe; /* NULL: no List-Unsubscribe */
    int64_t date_ms;
};

/* True when S is one address local@domain that is safe on the SMTP wire:
 * printable ASCII, no spaces, quotes, brackets, commas or controls, one "@",
 * a dotted domain of letters, digits and "-". */
bool mail_address_valid(const char *s);

/* Splits "Name <addr>" or "addr" into its address (copied into ADDR, at
 * most ADDRLEN) and display name (NAME, may be empty). Returns 0, or -1
 * when the address is not valid. */
int mail_split(const char *s, char *addr, size_t addrlen, char *name, size_t namelen)
    __attribute__((warn_unused_result));

/* Builds the message for IN into OUT (initialised by the caller). Returns
 * 0, or -1 with the reason in ERR: an address that is not valid, a header
 * value with a control character, no body, too long. */
int mail_build(const struct mail_in *in, struct buf *out, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
