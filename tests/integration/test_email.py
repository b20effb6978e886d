"""Integration tests of email delivery (issue 5) against a real SMTP server
(aiosmtpd), the received messages read by Python's own mail parser."""
import email
import email.policy
import json
import os
import struct
import time

from harness import SMTPServer, events_consumed, no_pending, scheduled, wait_for


def email_trigger(tid="thanks", on="Order Completed", to="{{customer.traits.email}}", **kw):
    act = {"to": to, "subject": "Bedankt, {{customer.traits.first_name}}!",
           "text": "Hallo {{customer.traits.first_name}},\n.dot at the start\n" + "lang " * 60 + "\n",
           "html": "<p>Hallo {{customer.traits.first_name}}</p>"}
    t = {"id": tid, "on": on, "actions": [{"email": act}]}
    t.update(kw)
    return t


def smtp_conf(smtp):
    return ("[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = Winkel <shop@example.nl>\ntls = none\n"
            "unsubscribe_url = https://shop.example/unsubscribe?c={{customer.id}}\n" % smtp.port)


def send(r, *messages):
    for m in messages:
        r.xadd("nudged:events", {"message": json.dumps(m)})


def identify(uid, **traits):
    return {"type": "identify", "userId": uid, "traits": traits}


def order(uid, mid):
    return {"type": "track", "userId": uid, "event": "Order Completed", "messageId": mid}


def run(env, smtp, triggers, extra_env=None):
    n = env.nudged({"t.json": triggers}, conf=smtp_conf(smtp), extra_env=extra_env)
    n.start().wait_ready(env.redis)
    return n


def test_frequency_cap_holds_across_two_processes(env):
    """[triggers] frequency_cap = 3/1d: eight customers each get ten promo
    events and two password resets, spread over two processes. Each gets
    exactly three promo emails and both resets (transactional: neither
    capped nor counted); the other seven promos are counted as capped and
    logged, and their triggers' webhooks still go out."""
    smtp = SMTPServer()
    try:
        promo = email_trigger(tid="promo", on="Promo")
        promo_hook = {"id": "promo-hook", "on": "Promo",
                      "actions": [{"webhook": {"url": "http://127.0.0.1:%d/p" % env.recv.port}}]}
        reset = email_trigger(tid="reset", on="Reset", transactional=True)
        extra = {"NUDGED_TRIGGERS_FREQUENCY_CAP": "3/1d"}
        n1 = run(env, smtp, [promo, promo_hook, reset], extra)
        n2 = run(env, smtp, [promo, promo_hook, reset], extra)
        r = env.redis.client
        customers = ["cap%d" % i for i in range(8)]
        send(r, *[identify(c, email="%s@example.nl" % c, first_name="C") for c in customers])
        # the addresses first: a promo read by the other process before its
        # customer's identify would have no address to go to
        wait_for(lambda: events_consumed(r) and r.xlen("nudged:events") >= 8, 10, "the identifies")
        msgs = []
        for i in range(12):
            for c in customers:
                name = "Reset" if i in (4, 9) else "Promo"
                msgs.append({"type": "track", "userId": c, "event": name, "messageId": "%s-%d" % (c, i)})
        send(r, *msgs)
        wait_for(lambda: smtp.count() >= 8 * 5 and env.recv.count() >= 8 * 10, 30, "the emails and webhooks")
        time.sleep(1.5)
        by_customer = {}
        for _, rcpt, content, _ in smtp.messages:
            subject = email.message_from_bytes(content, policy=email.policy.default)["Subject"]
            by_customer.setdefault(rcpt[0], []).append(subject)
        assert smtp.count() == 8 * 5, smtp.count()
        assert all(len(v) == 5 for v in by_customer.values()) and len(by_customer) == 8, by_customer
        assert env.recv.count() == 8 * 10, env.recv.count()
        capped = 0
        for n in (n1, n2):
            status, metrics = n.admin("GET", "/metrics")
            capped += int(next(m for m in metrics.splitlines() if m.startswith("nudged_emails_capped_total ")).split()[1])
        assert capped == 8 * 7, capped
        assert n1.log_has("frequency cap") or n2.log_has("frequency cap")
        assert n1.stop() == 0 and n2.stop() == 0
    finally:
        smtp.stop()


def test_email_arrives_whole(env):
    smtp = SMTPServer()
    try:
        n = run(env, smtp, email_trigger())
        r = env.redis.client
        send(r, identify("u1", email="zoe@example.nl", first_name="Zoë & Jürgen"), order("u1", "o-1"))
        wait_for(lambda: smtp.count() == 1, 10, "the email")
        time.sleep(0.5)
        assert smtp.count() == 1
        mail_from, rcpts, content, _ = smtp.messages[0]
        assert mail_from == "shop@example.nl" and rcpts == ["zoe@example.nl"], (mail_from, rcpts)
        msg = email.message_from_bytes(content, policy=email.policy.default)
        assert msg["subject"] == "Bedankt, Zoë & Jürgen!", msg["subject"]
        assert msg["from"] == "Winkel <shop@example.nl>" and msg["to"] == "zoe@example.nl"
        assert msg["list-unsubscribe"] == "<https://shop.example/unsubscribe?c=u1>", msg["list-unsubscribe"]
        assert msg["list-unsubscribe-post"] == "List-Unsubscribe=One-Click"
        assert msg["message-id"].startswith("<msg_") and msg["message-id"].endswith("@example.nl>")
        assert msg["mime-version"] == "1.0" and msg["date"] is not None
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert text.startswith("Hallo Zoë & Jürgen,\n.dot at the start\nlang lang"), repr(text[:80])
        html = msg.get_body(("html",)).get_content()
        assert "<p>Hallo Zoë &amp; Jürgen</p>" in html, html
        assert all(len(line) <= 998 for line in content.split(b"\r\n"))
        status, metrics = n.admin("GET", "/metrics")
        assert "nudged_emails_sent_total 1\n" in metrics
        assert 'nudged_deliveries_by_kind_total{kind="email",outcome="sent"} 1\n' in metrics, metrics
        assert 'nudged_deliveries_by_kind_total{kind="webhook",outcome="sent"} 0\n' in metrics, metrics
        assert 'nudged_trigger_fired_total{trigger="thanks"} 1\n' in metrics, metrics
        assert n.stop() == 0
    finally:
        smtp.stop()


def test_email_451_twice_then_accepted(env):
    smtp = SMTPServer(lambda n: "451 4.3.0 try again later" if n <= 2 else None)
    try:
        n = run(env, smtp, email_trigger())
        r = env.redis.client
        send(r, identify("u2", email="jan@example.nl", first_name="Jan"), order("u2", "o-2"))
        wait_for(lambda: smtp.count() == 1, 15, "the email after two 451s")
        time.sleep(1.5)
        assert smtp.count() == 1 and smtp.attempts == 3, (smtp.count(), smtp.attempts)
        assert r.xlen("nudged:dead") == 0
        metrics = n.admin("GET", "/metrics")[1]
        assert "nudged_emails_retried_total 2\n" in metrics and "nudged_emails_sent_total 1\n" in metrics, metrics
        assert n.stop() == 0
    finally:
        smtp.stop()


def test_email_550_goes_dead_at_once(env):
    smtp = SMTPServer(lambda n: "550 5.1.1 no such user")
    try:
        n = run(env, smtp, email_trigger())
        r = env.redis.client
        send(r, identify("u3", email="gone@example.nl", first_name="Ex"), order("u3", "o-3"))
        wait_for(lambda: r.xlen("nudged:dead") == 1, 10, "the dead email")
        time.sleep(1.5)
        dead = r.xrange("nudged:dead")[0][1]
        assert dead["status"] == "550" and "550" in dead["error"] and dead["kind"] == "email", dead
        assert smtp.attempts == 1 and smtp.count() == 0
        assert n.stop() == 0
    finally:
        smtp.stop()


def test_unsubscribed_and_bad_addresses_get_nothing(env):
    smtp = SMTPServer()
    try:
        bad = email_trigger(tid="bad-to", on="Ping", to="{{event.properties.to}}")
        later = email_trigger(tid="later", on="Signup", delay="2s")
        n = run(env, smtp, [email_trigger(), bad, later])
        r = env.redis.client
        send(r, identify("u4", email="weg@example.nl", first_name="Weg", unsubscribed=True), order("u4", "o-4"))
        # u7 unsubscribes while the delayed email waits: checked when it is sent.
        send(r, identify("u7", email="later@example.nl", first_name="Laat"),
             {"type": "track", "userId": "u7", "event": "Signup", "messageId": "s-7"})
        time.sleep(0.5)
        send(r, identify("u7", unsubscribed=True))
        for i, to in enumerate(["not-an-address", "a@example.nl, b@example.nl", "a@example.nl\r\nBcc: c@example.nl"]):
            send(r, {"type": "track", "userId": "u5", "event": "Ping", "messageId": "p-%d" % i,
                     "properties": {"to": to}})
        wait_for(lambda: r.xlen("nudged:dead") == 3, 10, "three dead emails")
        wait_for(lambda: "nudged_emails_suppressed_total 2\n" in n.admin("GET", "/metrics")[1], 10,
                 "two suppressed emails")
        time.sleep(1.0)
        assert smtp.attempts == 0, "the SMTP server was reached %d times" % smtp.attempts
        reasons = sorted(e[1]["error"] for e in r.xrange("nudged:dead"))
        # CR LF is folded to a space (never a second header line), which
        # leaves no valid address: refused like the other two.
        assert sum("not one valid address" in x for x in reasons) == 3, reasons
        assert any("a@example.nl Bcc: c@example.nl" in x for x in reasons), reasons
        metrics = n.admin("GET", "/metrics")[1]
        assert "nudged_emails_suppressed_total 2\n" in metrics, metrics
        assert n.stop() == 0
    finally:
        smtp.stop()


def tzif(offset_s):
    """A TZif version 2 file of one zone that is always OFFSET_S from UTC."""
    counts = struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    block = struct.pack(">lBB", offset_s, 0, 0) + b"TST\0"
    head = b"TZif2" + b"\0" * 15 + counts
    return head + block + head + block + b"\n<TST>0\n"


def test_quiet_hours_postpone_until_they_end(env):
    """The customer's zone is made so that it is 12:00:55 there now; quiet
    hours 12:00-12:01 hold the email until 12:01:00, five seconds later."""
    zdir = os.path.join(env.dir, "zoneinfo", "Test")
    os.makedirs(zdir)
    now = time.time()
    offset = int((12 * 3600 + 55 - now) % 86400)
    if offset > 43200:
        offset -= 86400
    with open(os.path.join(zdir, "Quiet"), "wb") as f:
        f.write(tzif(offset))
    with open(os.path.join(env.dir, "zoneinfo", "UTC"), "wb") as f:  # default_timezone
        f.write(tzif(0))
    smtp = SMTPServer()
    try:
        t = email_trigger(quiet_hours={"from": "12:00", "to": "12:01"})
        n = run(env, smtp, t, extra_env={"TZDIR": os.path.join(env.dir, "zoneinfo")})
        r = env.redis.client
        ident = identify("u6", email="nacht@example.nl", first_name="Nacht")
        ident["context"] = {"timezone": "Test/Quiet"}
        send(r, ident, order("u6", "o-6"))
        window_end = now + 5
        wait_for(lambda: scheduled(r) == 1, 5, "the email waiting in the schedule")
        assert smtp.count() == 0
        wait_for(lambda: smtp.count() == 1, 15, "the email after the quiet hours")
        arrived = smtp.messages[0][3]
        assert arrived >= window_end - 0.5, "arrived %.1fs before the quiet hours ended" % (window_end - arrived)
        assert n.stop() == 0
    finally:
        smtp.stop()


TESTS = [test_frequency_cap_holds_across_two_processes, test_email_arrives_whole, test_email_451_twice_then_accepted, test_email_550_goes_dead_at_once,
         test_unsubscribed_and_bad_addresses_get_nothing, test_quiet_hours_postpone_until_they_end]
