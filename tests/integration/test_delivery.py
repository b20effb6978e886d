"""Integration tests of deliveries: webhooks signed, escaped, retried, sent
one connection a host in turn, trimmed once sent, and entries that cannot
be sent set aside."""
import base64, json, threading, time

from harness import Env, SECRET, SHARDS, fnv1a32, shard_keys, skey, event, events_consumed, no_pending, scheduled, verify_signature, wait_for, webhook_trigger, no_pending_all


def test_signed_webhook():
    env = Env()
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"c": "{{customer.id}}",
                                                                       "n": "{{customer.events.Order Completed.count}}"})})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        r.xadd("nudged:events", {"message": event("alice", mid="m-1", total=30)})
        wait_for(lambda: env.recv.count() >= 1, 10, "the webhook")
        time.sleep(0.5)
        reqs = env.recv.all()
        assert len(reqs) == 1, "expected exactly one webhook, got %d" % len(reqs)
        req = reqs[0]
        assert verify_signature(req), "signature does not verify: %r" % req["headers"]
        h = req["headers"]
        assert h["content-type"] == "application/json" and h["user-agent"].startswith("nudged/")
        assert h["webhook-id"].startswith("msg_")
        assert json.loads(req["body"]) == {"c": "alice", "n": 1}, req["body"]
        wait_for(lambda: events_consumed(r) and no_pending_all(r, "nudged:actions"), 5, "no pending")
        assert n.stop() == 0, "nudged did not exit 0 on SIGTERM"
    finally:
        env.close()


def test_each_secret_signs_its_own_webhooks():
    """nudged keeps one keyed HMAC per secret: webhooks of two triggers with
    different secrets, interleaved, each verify with their own secret only."""
    other = "whsec_" + base64.b64encode(b"another secret, 32 bytes long!!").decode()
    env = Env()
    try:
        n = env.nudged({"a.json": webhook_trigger(env.recv.port, tid="a", path="/a"),
                        "b.json": webhook_trigger(env.recv.port, tid="b", path="/b", secret=other)})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        for k in range(3):
            r.xadd("nudged:events", {"message": event("carol%d" % k, mid="m-s%d" % k, total=10)})
        wait_for(lambda: env.recv.count() >= 6, 10, "six webhooks")
        reqs = env.recv.all()
        assert sorted(q["path"] for q in reqs) == ["/a"] * 3 + ["/b"] * 3, [q["path"] for q in reqs]
        for q in reqs:
            mine, theirs = (SECRET, other) if q["path"] == "/a" else (other, SECRET)
            assert verify_signature(q, mine) and not verify_signature(q, theirs), (q["path"], q["headers"])
        assert n.stop() == 0
    finally:
        env.close()


def test_delivery_text_survives_escaping():
    """A delivery travels as one JSON field: quotes, backslashes, control
    characters and non-ASCII text in what it carries arrive unchanged."""
    env = Env()
    try:
        tricky = "q\"b\\s/n\nt\tc\x01\x1f d\x7f \u00e9 \u20ac \U0001F600 {{x}}"
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"name": "{{event.properties.name}}",
                                                                      "id": "{{customer.id}}"})})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        who = "\u00e9\"\\\u00fc\t\x01"  # the delivery's own "customer" field carries it raw
        m = json.loads(event(who, mid="m-tricky"))
        m["properties"]["name"] = tricky
        r.xadd("nudged:events", {"message": json.dumps(m)})
        wait_for(lambda: env.recv.count() >= 1, 10, "the webhook")
        body = json.loads(env.recv.all()[0]["body"])
        assert body == {"name": tricky, "id": who}, body
        assert verify_signature(env.recv.all()[0])
        assert n.stop() == 0
    finally:
        env.close()


def test_retry_500_twice_then_sent():
    env = Env(script=lambda path, k: 500 if k <= 2 else 200)
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        r.xadd("nudged:events", {"message": event("bob", total=5)})
        wait_for(lambda: env.recv.count() >= 3, 15, "three attempts")
        time.sleep(1.5)
        reqs = env.recv.all()
        assert len(reqs) == 3, "expected 3 attempts, got %d" % len(reqs)
        ids = {q["headers"]["webhook-id"] for q in reqs}
        assert len(ids) == 1, "webhook-id changed between retries: %r" % ids
        assert all(verify_signature(q) for q in reqs)
        assert r.xlen("nudged:dead") == 0
        wait_for(lambda: scheduled(r) == 0 and no_pending_all(r, "nudged:actions"), 5, "settled")
        # the retries waited in bob's shard's schedule and went back to its
        # outbox: the first attempt and two retries, nothing in another
        out = skey("nudged:actions", "bob")
        assert r.xinfo_stream(out)["entries-added"] == 3, r.xinfo_stream(out)
        assert sum(r.xinfo_stream(k)["entries-added"] for k in shard_keys("nudged:actions")) == 3
        assert r.xinfo_stream(skey("nudged:timers", "bob"))["entries-added"] == 0, "a retry is no timer"
        assert n.stop() == 0
    finally:
        env.close()


def test_410_is_not_retried():
    env = Env(script=lambda path, k: 410)
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        r.xadd("nudged:events", {"message": event("carol")})
        wait_for(lambda: r.xlen("nudged:dead") == 1, 10, "the dead entry")
        time.sleep(2.5)  # longer than the 1s retry schedule
        assert env.recv.count() == 1, "410 was retried"
        dead = r.xrange("nudged:dead")[0][1]
        assert dead["status"] == "410" and dead["trigger"] == "t1", dead
        # Every field of the delivery, also those left out of the actions stream at their default.
        assert (dead["attempt"], dead["method"], dead["headers"]) == ("1", "POST", "{}"), dead
        assert scheduled(r) == 0
        assert n.stop() == 0
    finally:
        env.close()


def test_one_connection_a_host_in_turn_and_the_wait_counts_in_the_timeout():
    """per_host = 1 and a receiver that takes 0.6 s for each of its first
    three requests, four webhooks at once (timeout 1.5 s): they go one at a
    time, in turn; the third starts with 0.3 s left and times out, the
    fourth never gets the connection within its timeout and fails unsent
    with that reason. Both are retried and arrive."""
    def slow(path, k):
        if k <= 3:
            time.sleep(0.6)
        return 200
    env = Env(script=slow)
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)}, conf="per_host = 1\n")
        n.start().wait_ready(env.redis)
        r = env.redis.client
        pipe = r.pipeline(transaction=False)
        for who in ("ann", "bob", "cid", "dee"):
            pipe.xadd("nudged:events", {"message": event(who)})
        pipe.execute()
        wait_for(lambda: env.recv.count() >= 5, 15, "five requests")
        time.sleep(0.5)
        reqs = env.recv.all()
        first = reqs[:3]
        gaps = [b["t"] - a["t"] for a, b in zip(first, first[1:])]
        assert all(g >= 0.5 for g in gaps), "one connection: each request waits for the last, gaps %r" % gaps
        ids = [q["headers"]["webhook-id"] for q in reqs]
        assert len(ids) == 5 and len(set(ids)) == 4, "four webhooks, the third sent twice: %r" % ids
        assert ids.count(ids[2]) == 2, "the third timed out and was sent again: %r" % ids
        assert n.log_has("came free within the timeout (1500 ms)"), "the fourth failed unsent, with its reason"
        wait_for(lambda: scheduled(r) == 0 and no_pending_all(r, "nudged:actions"), 10, "settled")
        assert r.xlen("nudged:dead") == 0
        assert n.stop() == 0
    finally:
        env.close()


def test_method_and_headers_default_or_own_also_on_retry():
    """Deliveries leave out method POST, no headers and attempt 1, and the
    reader puts them back; a webhook with its own method and headers keeps
    them, also when it is sent again from the retry schedule."""
    env = Env(script=lambda path, k: 500 if path == "/own" and k == 1 else 200)
    try:
        own = webhook_trigger(env.recv.port, tid="own", path="/own")
        own["actions"][0]["webhook"].update({"method": "PUT", "headers": {"x-shop": "nl"}})
        n = env.nudged({"t.json": [webhook_trigger(env.recv.port, tid="plain", path="/plain"), own]})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        r.xadd("nudged:events", {"message": event("dora")})
        wait_for(lambda: env.recv.count() >= 3, 15, "the plain webhook and both attempts of the own one")
        reqs = env.recv.all()
        plain = [q for q in reqs if q["path"] == "/plain"]
        owns = [q for q in reqs if q["path"] == "/own"]
        assert len(plain) == 1 and plain[0]["method"] == "POST" and "x-shop" not in plain[0]["headers"], plain
        assert len(owns) == 2 and all(q["method"] == "PUT" and q["headers"].get("x-shop") == "nl" for q in owns), owns
        assert all(verify_signature(q) for q in reqs)
        wait_for(lambda: scheduled(r) == 0 and no_pending_all(r, "nudged:actions"), 5, "settled")
        assert r.xlen("nudged:dead") == 0
        assert n.stop() == 0
    finally:
        env.close()


def test_sent_deliveries_are_trimmed_and_pending_ones_kept():
    """Sent deliveries leave their shard's outbox (<prefix>actions:{k}) by
    the trim each second; one
    still being sent stays in the stream (so another process could claim
    it) until it is acked."""
    release = threading.Event()
    env = Env(script=lambda path, k: 200 if path != "/slow" or release.wait(8) else 500)
    try:
        slow = webhook_trigger(env.recv.port, tid="slow", path="/slow", on="Form Submitted")
        slow["actions"][0]["webhook"]["timeout"] = "10s"  # below claim_idle, as nudged check requires
        n = env.nudged({"t.json": [webhook_trigger(env.recv.port, tid="fast", path="/fast"), slow]},
                       conf="[redis]\nclaim_idle = 15s\n")
        n.start().wait_ready(env.redis)
        r = env.redis.client
        # customers of one shard, so that their 301 deliveries fill one
        # outbox's stream nodes (100 entries each)
        ids = [c for c in ("c%d" % i for i in range(10000)) if fnv1a32(c) % SHARDS == 0][:301]
        out = skey("nudged:actions", ids[0])
        pipe = r.pipeline(transaction=False)
        for i, c in enumerate(ids):
            pipe.xadd("nudged:events", {"message": event(c, "Form Submitted" if i == 150 else "Order Completed")})
        pipe.execute()
        wait_for(lambda: env.recv.count() == 301, 15, "every webhook sent or being sent")
        # each outbox is trimmed every SREADER_TRIM_TURNS (8) seconds
        wait_for(lambda: r.xlen(out) < 301, 12, "the sent deliveries trimmed")
        pending, = r.xpending_range(out, "nudged", "-", "+", 10)
        slow_id = pending["message_id"]
        assert r.xrange(out, slow_id, slow_id), "a delivery being sent was trimmed"
        release.set()
        wait_for(lambda: no_pending_all(r, "nudged:actions"), 10, "the slow one acked")
        wait_for(lambda: r.xlen(out) <= 100, 12, "all but the last stream node trimmed")
        assert r.xlen("nudged:dead") == 0 and env.recv.count() == 301
        assert n.stop() == 0
    finally:
        release.set()
        env.close()


def delivery_fields(port, d):
    return {"d": d, "trigger": "t1", "action": "0", "customer": "zoe", "ets": "1", "kind": "webhook",
            "url": "http://127.0.0.1:%d/hook" % port, "body": json.dumps({"d": d}), "timeout": "1000"}


def test_actions_entries_of_another_shape_or_bad_json_go_dead():
    """A delivery is one JSON field, "delivery"; one with a value that is
    not a string is still sent; an entry of another shape (its fields as
    entry fields), one whose JSON is broken (with its text) and one of more
    than 32 fields go to dead with the reason."""
    env = Env()
    try:
        r = env.redis.client
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Never")})
        n.start().wait_ready(env.redis)
        old = dict(delivery_fields(env.recv.port, "msg_old"), attempt="1", method="POST", headers="{}")
        out = skey("nudged:actions", "zoe")
        r.xadd(out, old)
        r.xadd(out, {"delivery": json.dumps(delivery_fields(env.recv.port, "msg_new"))})
        bad = r.xadd(out, {"delivery": "{not json"})
        mixed = dict(delivery_fields(env.recv.port, "msg_mixed"), extra=7)
        r.xadd(out, {"delivery": json.dumps(mixed)})
        big = dict(delivery_fields(env.recv.port, "msg_big"), **{"x%d" % i: "v" for i in range(40)})
        r.xadd(out, {"delivery": json.dumps(big)})
        wait_for(lambda: env.recv.count() == 2 and r.xlen("nudged:dead") == 3, 10, "two sent, three dead")
        assert sorted(q["headers"]["webhook-id"] for q in env.recv.all()) == ["msg_mixed", "msg_new"]
        assert all(verify_signature(q) for q in env.recv.all())
        (_, dead_old), (_, dead), (_, dead_big) = r.xrange("nudged:dead")
        assert dead_old["error"] == 'an actions entry has exactly one field, "delivery"' and dead_old["d"] == "msg_old", dead_old
        assert dead["error"] == "the delivery is not a JSON object" and dead["delivery"] == "{not json", dead
        assert dead_big["error"] == "the delivery has more than 32 fields", dead_big
        wait_for(lambda: no_pending_all(r, "nudged:actions"), 5, "all acked")
        assert bad and n.stop() == 0
    finally:
        env.close()


def test_delivery_delivered_too_often_is_set_aside():
    """A delivery read 5 times and never acked (its process crashed each
    time) goes to dead with its fields, unsent."""
    env = Env()
    try:
        r = env.redis.client
        out = skey("nudged:actions", "zoe")
        r.xgroup_create(out, "nudged", id="0", mkstream=True)
        poison = r.xadd(out, {"delivery": json.dumps(delivery_fields(env.recv.port, "msg_poison"))})
        r.xreadgroup("nudged", "crashed-host-1", {out: ">"}, count=1)
        r.execute_command("XCLAIM", out, "nudged", "crashed-host-1", 0, poison, "RETRYCOUNT", 5)
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Never")})
        n.start().wait_ready(env.redis)
        wait_for(lambda: r.xlen("nudged:dead") == 1, 15, "the delivery set aside")
        (_, dead), = r.xrange("nudged:dead")
        assert dead["id"] == poison and "delivered 5 times" in dead["error"], dead
        assert dead["d"] == "msg_poison" and dead["customer"] == "zoe" and "delivery" not in dead, dead
        wait_for(lambda: no_pending_all(r, "nudged:actions"), 5, "nothing pending")
        assert env.recv.count() == 0
        assert n.stop() == 0
    finally:
        env.close()


TESTS = [test_signed_webhook, test_each_secret_signs_its_own_webhooks, test_delivery_text_survives_escaping, test_retry_500_twice_then_sent, test_410_is_not_retried, test_one_connection_a_host_in_turn_and_the_wait_counts_in_the_timeout, test_method_and_headers_default_or_own_also_on_retry, test_sent_deliveries_are_trimmed_and_pending_ones_kept, test_actions_entries_of_another_shape_or_bad_json_go_dead, test_delivery_delivered_too_often_is_set_aside]
