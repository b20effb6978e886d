"""An SMTP server for `make demo` (aiosmtpd): prints each email it gets as a
reader sees it: the decoded headers and the text part."""
import asyncio
import email
import email.policy
import sys

from aiosmtpd.controller import Controller


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(("plain", "html"))
        text = body.get_content().replace("\r\n", "\n").strip() if body else ""
        parts = ", ".join(p.get_content_type() for p in msg.walk() if not p.is_multipart())
        print("\n--- email to %s (%s)\nFrom: %s\nSubject: %s\nList-Unsubscribe: %s\n\n%s" % (
            ", ".join(envelope.rcpt_tos), parts, msg["from"], msg["subject"], msg["list-unsubscribe"],
            "\n".join("    " + line for line in text.splitlines())), flush=True)
        return "250 OK"


async def main():
    controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    await asyncio.Event().wait()


asyncio.run(main())
