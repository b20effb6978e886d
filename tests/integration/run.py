"""Integration tests of nudged against a real redis-server and a real HTTP
receiver (issue 2). Run: NUDGED_BIN=build/nudged /usr/bin/python3 tests/integration/run.py [name...]"""
import base64, json, os, signal, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Env, scheduled, NUDGED, SECRET, event, run_tests, verify_signature, wait_for, webhook_trigger)
import collector_tests
import email_tests
import profile_tests
import reliability_tests
import scheduler


def with_env(test):
    """Wraps TEST(env) into a test that makes and closes its own Env."""
    def run():
        env = Env()
        try:
            test(env)
        finally:
            env.close()
    run.__name__ = test.__name__
    return run


def no_pending(r, stream):
    try:
        return all(g["pending"] == 0 for g in r.xinfo_groups(stream))
    except Exception:
        return False


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
        wait_for(lambda: no_pending(r, "nudged:events") and no_pending(r, "nudged:actions"), 5, "no pending")
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
        wait_for(lambda: scheduled(r) == 0 and no_pending(r, "nudged:actions"), 5, "settled")
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
        wait_for(lambda: scheduled(r) == 0 and no_pending(r, "nudged:actions"), 10, "settled")
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
        wait_for(lambda: scheduled(r) == 0 and no_pending(r, "nudged:actions"), 5, "settled")
        assert r.xlen("nudged:dead") == 0
        assert n.stop() == 0
    finally:
        env.close()


def test_sent_deliveries_are_trimmed_and_pending_ones_kept():
    """Sent deliveries leave <prefix>actions by the trim each second; one
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
        pipe = r.pipeline(transaction=False)
        for i in range(301):
            pipe.xadd("nudged:events", {"message": event("c%d" % i, "Form Submitted" if i == 150 else
                                                         "Order Completed")})
        pipe.execute()
        wait_for(lambda: env.recv.count() == 301, 15, "every webhook sent or being sent")
        wait_for(lambda: r.xlen("nudged:actions") < 301, 5, "the sent deliveries trimmed")
        pending, = r.xpending_range("nudged:actions", "nudged", "-", "+", 10)
        slow_id = pending["message_id"]
        assert r.xrange("nudged:actions", slow_id, slow_id), "a delivery being sent was trimmed"
        release.set()
        wait_for(lambda: no_pending(r, "nudged:actions"), 10, "the slow one acked")
        wait_for(lambda: r.xlen("nudged:actions") <= 100, 5, "all but the last stream node trimmed")
        assert r.xlen("nudged:dead") == 0 and env.recv.count() == 301
        assert n.stop() == 0
    finally:
        release.set()
        env.close()


def delivery_fields(port, d):
    return {"d": d, "trigger": "t1", "action": "0", "customer": "zoe", "ets": "1", "kind": "webhook",
            "url": "http://127.0.0.1:%d/hook" % port, "body": json.dumps({"d": d}), "timeout": "1000"}


def test_actions_entries_as_fields_or_bad_json():
    """A delivery is one JSON field, "delivery"; an entry written as fields
    (by an earlier version) or with a value that is not a string is still
    sent; one whose JSON is broken goes to dead with the reason and its
    text, and one of more than 32 fields with the reason."""
    env = Env()
    try:
        r = env.redis.client
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Never")})
        n.start().wait_ready(env.redis)
        old = dict(delivery_fields(env.recv.port, "msg_old"), attempt="1", method="POST", headers="{}")
        r.xadd("nudged:actions", old)
        r.xadd("nudged:actions", {"delivery": json.dumps(delivery_fields(env.recv.port, "msg_new"))})
        bad = r.xadd("nudged:actions", {"delivery": "{not json"})
        mixed = dict(delivery_fields(env.recv.port, "msg_mixed"), extra=7)
        r.xadd("nudged:actions", {"delivery": json.dumps(mixed)})
        big = dict(delivery_fields(env.recv.port, "msg_big"), **{"x%d" % i: "v" for i in range(40)})
        r.xadd("nudged:actions", {"delivery": json.dumps(big)})
        wait_for(lambda: env.recv.count() == 3 and r.xlen("nudged:dead") == 2, 10, "three sent, two dead")
        assert sorted(q["headers"]["webhook-id"] for q in env.recv.all()) == ["msg_mixed", "msg_new", "msg_old"]
        assert all(verify_signature(q) for q in env.recv.all())
        (_, dead), (_, dead_big) = r.xrange("nudged:dead")
        assert dead["error"] == "the delivery is not a JSON object" and dead["delivery"] == "{not json", dead
        assert dead_big["error"] == "the delivery has more than 32 fields", dead_big
        wait_for(lambda: no_pending(r, "nudged:actions"), 5, "all acked")
        assert bad and n.stop() == 0
    finally:
        env.close()


def test_delivery_delivered_too_often_is_set_aside():
    """A delivery read 5 times and never acked (its process crashed each
    time) goes to dead with its fields, unsent."""
    env = Env()
    try:
        r = env.redis.client
        r.xgroup_create("nudged:actions", "nudged", id="0", mkstream=True)
        poison = r.xadd("nudged:actions", {"delivery": json.dumps(delivery_fields(env.recv.port, "msg_poison"))})
        r.xreadgroup("nudged", "crashed-host-1", {"nudged:actions": ">"}, count=1)
        r.execute_command("XCLAIM", "nudged:actions", "nudged", "crashed-host-1", 0, poison, "RETRYCOUNT", 5)
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Never")})
        n.start().wait_ready(env.redis)
        wait_for(lambda: r.xlen("nudged:dead") == 1, 15, "the delivery set aside")
        (_, dead), = r.xrange("nudged:dead")
        assert dead["id"] == poison and "delivered 5 times" in dead["error"], dead
        assert dead["d"] == "msg_poison" and dead["customer"] == "zoe" and "delivery" not in dead, dead
        wait_for(lambda: no_pending(r, "nudged:actions"), 5, "nothing pending")
        assert env.recv.count() == 0
        assert n.stop() == 0
    finally:
        env.close()


BAD_ENTRIES = [
    ({"message": "{not json"}, "not valid JSON"),
    ({"message": json.dumps({"type": "track", "event": "X"})}, "userId or anonymousId"),
    ({"message": json.dumps({"type": "shout", "userId": "u"})}, "type \"shout\" is unknown"),
    ({"message": json.dumps({"type": "track", "userId": "u"})}, "needs event"),
    ({"message": json.dumps({"type": "track", "userId": "u" * 300, "event": "X"})}, "at most 256 bytes"),
    ({"message": json.dumps({"type": "track", "userId": "u", "event": "X", "timestamp": "yesterday"})}, "ISO-8601"),
    ({"message": json.dumps({"type": "track", "userId": "u", "event": "X", "properties": [1]})},
     "properties must be an object"),
    ({"message": json.dumps([1, 2])}, "must be a JSON object"),
    ({"other": "x"}, "no field \"message\""),
]


def test_malformed_entries_rejected_and_rest_processed():
    env = Env()
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        ids = [r.xadd("nudged:events", fields) for fields, _ in BAD_ENTRIES]
        r.xadd("nudged:events", {"message": event("dave", mid="after-the-bad-ones")})
        wait_for(lambda: env.recv.count() == 1, 10, "the webhook behind the bad entries")
        wait_for(lambda: r.xlen("nudged:rejected") == len(BAD_ENTRIES), 5, "rejected entries")
        rejected = {f["id"]: f for _, f in r.xrange("nudged:rejected")}
        for (fields, reason), sid in zip(BAD_ENTRIES, ids):
            assert sid in rejected, "entry %s not rejected" % sid
            assert reason in rejected[sid]["error"], "%r does not say %r" % (rejected[sid]["error"], reason)
            assert rejected[sid]["message"] == fields.get("message", "")
        wait_for(lambda: no_pending(r, "nudged:events"), 5, "everything acked")
        assert n.stop() == 0
    finally:
        env.close()


def test_a_key_of_the_wrong_type_rejects_only_its_event():
    """One profile script call applies a run of events; a customer whose
    profile key holds a string fails alone, the events around it fire."""
    env = Env()
    try:
        r = env.redis.client
        r.set("nudged:{broken}:p", "not a hash")
        for who in ["ann", "broken", "bob"]:
            r.xadd("nudged:events", {"message": event(who, mid="m-" + who)})
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})})
        n.start().wait_ready(env.redis)
        wait_for(lambda: env.recv.count() == 2, 10, "the two good webhooks")
        wait_for(lambda: r.xlen("nudged:rejected") == 1, 5, "the broken customer's event rejected")
        (_, f), = r.xrange("nudged:rejected")
        assert "WRONGTYPE" in f["error"] and json.loads(f["message"])["userId"] == "broken", f
        assert distinct_fired(env) == {"m-ann", "m-bob"}, distinct_fired(env)
        wait_for(lambda: no_pending(r, "nudged:events"), 5, "everything acked")
        assert n.stop() == 0
    finally:
        env.close()


def send_events(r, count, customers, offset=0):
    pipe = r.pipeline(transaction=False)
    for i in range(offset, offset + count):
        pipe.xadd("nudged:events", {"message": event("cust-%d" % (i % customers), mid="ev-%d" % i, n=i)})
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def check_profiles(r, total, customers):
    for c in range(customers):
        expected = len(range(c, total, customers))
        f = r.hget("nudged:{cust-%d}:p" % c, "e:Order Completed")
        got = int(f.split()[0]) if f else 0
        assert got == expected, "customer %d: count %d, expected %d" % (c, got, expected)


def distinct_fired(env):
    """The messageIds the receiver has seen a webhook for."""
    return {json.loads(q["body"])["mid"] for q in env.recv.all()}


def start_mid_trigger(env):
    """nudged with one trigger whose webhook names the event's messageId."""
    trig = {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})}
    n = env.nudged(trig)
    n.start().wait_ready(env.redis)
    return n, trig


def test_crash_kill9_recovers_everything():
    total, customers = int(os.environ.get("CRASH_EVENTS", 10000)), 100
    env = Env()
    try:
        n, trig = start_mid_trigger(env)
        r = env.redis.client
        send_events(r, total, customers)
        wait_for(lambda: env.recv.count() >= total // 6, 60, "work in flight")
        n.stop(signal.SIGKILL)
        n2 = env.nudged(trig)
        n2.start().wait_ready(env.redis)
        t0 = time.time()
        try:
            wait_for(lambda: len(distinct_fired(env)) >= total, 120, "every webhook")
        finally:
            print("  crash: %d of %d events fired %.1fs after the restart" % (
                len(distinct_fired(env)), total, time.time() - t0))
        wait_for(lambda: no_pending(r, "nudged:events") and no_pending(r, "nudged:actions"), 30, "no pending")
        reqs = env.recv.all()
        by_mid = {}
        for q in reqs:
            by_mid.setdefault(json.loads(q["body"])["mid"], set()).add(q["headers"]["webhook-id"])
        assert len(by_mid) == total, "%d distinct events fired, expected %d" % (len(by_mid), total)
        twice = [m for m, ids in by_mid.items() if len(ids) > 1]
        assert not twice, "fired twice with different webhook-ids: %r" % twice[:5]
        check_profiles(r, total, customers)
        print("  crash: %d webhooks received for %d events (%d repeats with the same webhook-id)"
              % (len(reqs), total, len(reqs) - total))
        assert n2.stop() == 0
    finally:
        env.close()


def test_redis_restart_while_running():
    total, customers = 2000, 50
    env = Env()
    try:
        n, _ = start_mid_trigger(env)
        r = env.redis.client
        send_events(r, total // 2, customers)
        wait_for(lambda: env.recv.count() >= 100, 30, "some work done")
        env.redis.save_and_stop()
        time.sleep(1.0)
        env.redis.start()
        r = env.redis.client
        send_events(r, total // 2, customers, offset=total // 2)
        wait_for(lambda: len(distinct_fired(env)) >= total, 60, "every webhook")
        wait_for(lambda: no_pending(r, "nudged:events") and no_pending(r, "nudged:actions"), 30, "no pending")
        check_profiles(r, total, customers)
        assert n.log_has("redis connected"), "no reconnect logged"
        assert n.stop() == 0
    finally:
        env.close()


def test_notify_ready_and_stopping():
    env = Env()
    sock_path = os.path.join(env.dir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(15)
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)}, extra_env={"NOTIFY_SOCKET": sock_path})
        n.start()
        msgs = []
        while not any("READY=1" in m for m in msgs):
            msgs.append(s.recv(4096).decode())
        assert env.redis.client.exists("nudged:events"), "READY=1 before the group exists"
        n.proc.send_signal(signal.SIGTERM)
        while not any("STOPPING=1" in m for m in msgs):
            msgs.append(s.recv(4096).decode())
        assert n.proc.wait(timeout=15) == 0
    finally:
        s.close()
        env.close()


def test_reload_keeps_old_set_on_error_and_swaps_on_success():
    env = Env()
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, path="/old")})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        n.write_triggers({"t.json": '{"id": "t1", "on": "Order Completed", "actions": [}'})
        n.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: n.log_has("reload failed"), 10, "the failed reload")
        r.xadd("nudged:events", {"message": event("erin", mid="a")})
        wait_for(lambda: env.recv.count() == 1, 10, "a webhook from the old set")
        assert env.recv.all()[0]["path"] == "/old"
        n.write_triggers({"t.json": webhook_trigger(env.recv.port, path="/new")})
        n.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: n.log_has("triggers reloaded"), 10, "the good reload")
        r.xadd("nudged:events", {"message": event("erin", mid="b")})
        wait_for(lambda: env.recv.count() == 2, 10, "a webhook from the new set")
        assert env.recv.all()[1]["path"] == "/new"
        assert n.stop() == 0
    finally:
        env.close()


def test_entry_delivered_too_often_is_set_aside():
    """An entry that was delivered 5 times and never acked (as one that crashed
    nudged each time would be) goes to rejected, and the rest go on."""
    env = Env()
    try:
        r = env.redis.client
        r.xgroup_create("nudged:events", "nudged", id="0", mkstream=True)
        poison = r.xadd("nudged:events", {"message": event("frank", mid="poison")})
        r.xreadgroup("nudged", "crashed-host-1", {"nudged:events": ">"}, count=1)
        r.execute_command("XCLAIM", "nudged:events", "nudged", "crashed-host-1", 0, poison, "RETRYCOUNT", 5)
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})})
        n.start().wait_ready(env.redis)
        r.xadd("nudged:events", {"message": event("frank", mid="healthy")})
        wait_for(lambda: r.xlen("nudged:rejected") == 1, 15, "the entry set aside")
        wait_for(lambda: no_pending(r, "nudged:events"), 10, "nothing pending")
        rej = r.xrange("nudged:rejected")[0][1]
        assert rej["id"] == poison and "delivered 5 times" in rej["error"], rej
        assert json.loads(rej["message"])["messageId"] == "poison"
        time.sleep(0.5)
        mids = [json.loads(q["body"])["mid"] for q in env.recv.all()]
        assert mids == ["healthy"], mids
        assert n.stop() == 0
    finally:
        env.close()


def run_cli(args, env=None):
    p = subprocess.run([NUDGED] + args, capture_output=True, text=True, timeout=30, env=env)
    return p.returncode, p.stdout + p.stderr


def test_cli_check_and_exit_codes():
    d = tempfile.mkdtemp(prefix="nudged-cli-")
    tdir = os.path.join(d, "t")
    os.makedirs(tdir)
    conf = os.path.join(d, "nudged.conf")
    with open(conf, "w") as f:
        f.write("[triggers]\ndir = %s\n" % tdir)
    with open(os.path.join(tdir, "a.json"), "w") as f:
        f.write('{"id": "a", "on": "X", "actions": [{"webhook": {"url": "http://127.0.0.1:1/x"}}]}')
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 0 and "ok, 1 triggers" in out, out
    with open(os.path.join(tdir, "b.json"), "w") as f:
        f.write('{\n  "id": "b",\n  "on": "X",\n  "actions": [\n}')
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 1 and "b.json:5:1:" in out, out
    with open(conf, "w") as f:
        f.write("[redis]\nbatch = many\ncolour = blue\n")
    rc, out = run_cli(["check", "-c", conf])
    assert rc == 1 and ":2: redis.batch must be a whole number" in out and ':3: unknown key "colour"' in out, out
    rc, out = run_cli(["check", "-c", conf], env=dict(os.environ, NUDGED_REDIS_BATCH="0"))
    assert rc == 1 and "NUDGED_REDIS_BATCH" in out, out
    assert run_cli(["--help"])[0] == 0
    assert run_cli(["version"])[1].startswith("nudged ")
    assert run_cli(["frobnicate"])[0] == 2
    assert run_cli(["-x"])[0] == 2


if __name__ == "__main__":
    sys.exit(run_tests([test_cli_check_and_exit_codes, collector_tests.test_collector_config_errors,
                        reliability_tests.test_admin_token_file_without_a_token_is_a_config_error,
                        reliability_tests.test_trigger_directory_limits, test_signed_webhook, test_each_secret_signs_its_own_webhooks,
                        test_delivery_text_survives_escaping,
                        test_retry_500_twice_then_sent,
                        test_410_is_not_retried, test_method_and_headers_default_or_own_also_on_retry,
                        test_one_connection_a_host_in_turn_and_the_wait_counts_in_the_timeout,
                        test_sent_deliveries_are_trimmed_and_pending_ones_kept,
                        test_actions_entries_as_fields_or_bad_json, test_delivery_delivered_too_often_is_set_aside,
                        test_malformed_entries_rejected_and_rest_processed,
                        test_a_key_of_the_wrong_type_rejects_only_its_event,
                        test_notify_ready_and_stopping, test_reload_keeps_old_set_on_error_and_swaps_on_success,
                        test_entry_delivered_too_often_is_set_aside, test_redis_restart_while_running,
                        test_crash_kill9_recovers_everything] + [with_env(t) for t in collector_tests.TESTS + reliability_tests.TESTS + scheduler.TESTS + email_tests.TESTS + profile_tests.TESTS]))
