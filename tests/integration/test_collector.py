"""The HTTP collector (SPEC 1.2, issue 17) against a real redis-server, the
real nudged, the real client libraries and a real browser. Each test gets
its own Env (the runner makes it)."""
import base64, gzip, http.client, json, os, signal, socket, subprocess, time

from harness import event_entries, events_consumed, events_len, free_port, shard_stream, wait_for, webhook_trigger

KEY = "wk_shop_1"
CLIENTS = os.path.join(os.path.dirname(__file__), "..", "clients")


def collector(env, triggers=None, conf="", keys=KEY + "\n"):
    """A nudged with the collector on a free port; returns (nudged, port)."""
    port = free_port()
    kf = os.path.join(env.dir, "write_keys")
    with open(kf, "w") as f:
        f.write(keys)
    triggers = triggers or {"t.json": webhook_trigger(env.recv.port)}
    n = env.nudged(triggers, conf="[http]\ningest_listen = 127.0.0.1:%d\nwrite_keys_file = %s\n%s" % (port, kf, conf))
    n.start().wait_ready(env.redis)
    wait_for(lambda: n.log_has("collector listening"), 5, "the collector")
    return n, port


def post(port, path, body, headers=None, method="POST", auth=KEY):
    """One request: (status, headers dict lower-cased, body text)."""
    h = dict(headers or {})
    if auth is not None and "Authorization" not in h:
        h["Authorization"] = "Basic " + base64.b64encode((auth + ":").encode()).decode()
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


def events(env):
    return events_len(env.redis.client)


def track(uid="u1", name="Order Completed", **kw):
    m = {"userId": uid, "event": name, "properties": {"total": 10}}
    m.update(kw)
    return m


def test_collector_paths_types_and_answers(env):
    """Every path of SPEC 1.2 and its type; the exact 200 body; the message
    as stored; screen and group understood by the whole daemon."""
    screen_hook = webhook_trigger(env.recv.port, tid="app-home", on="screen", path="/screen",
                                  body={"c": "{{customer.id}}", "g": "{{customer.traits.group.id}}"})
    n, port = collector(env, {"t.json": [webhook_trigger(env.recv.port), screen_hook]})
    single = {"/v1/track": "track", "/v1/t": "track", "/v1/page": "page", "/v1/p": "page",
              "/v1/screen": "screen", "/v1/s": "screen", "/v1/identify": "identify", "/v1/i": "identify",
              "/v1/group": "group", "/v1/g": "group", "/v1/alias": "alias", "/v1/a": "alias"}
    for i, (path, typ) in enumerate(sorted(single.items())):
        m = {"userId": "p%d" % i, "event": "Seen", "groupId": "acme", "previousId": "anon-%d" % i,
             "messageId": "path-%d" % i}
        st, h, body = post(port, path, m)
        assert (st, body) == (200, '{"success":true}'), (path, st, body)
        assert h["content-type"] == "application/json", h
    entries = event_entries(env.redis.client)
    stored = {json.loads(f["message"])["messageId"]: (st, json.loads(f["message"])) for st, _, f in entries}
    for i, (path, typ) in enumerate(sorted(single.items())):
        st, m = stored["path-%d" % i]
        assert m["type"] == typ, (path, m)
        assert "receivedAt" in m
        assert st == shard_stream(m["userId"]), ("written to its customer's shard stream", st, m)
    # A batch (long and short path) and the beacon with the key in the query.
    b = {"batch": [{"type": "group", "userId": "g1", "groupId": "acme", "traits": {"plan": "gold"}},
                   {"type": "screen", "userId": "g1", "name": "Home"}]}
    assert post(port, "/v1/batch", b)[:3:2] == (200, '{"success":true}')
    st, _, body = post(port, "/v1/b", {"batch": [dict(track("b1"), type="track")]})
    assert st == 200, body
    st, _, body = post(port, "/beacon/v1/batch?writeKey=" + KEY, {"batch": [dict(track("beacon-1"), type="track")]},
                       headers={"Content-Type": "text/plain"}, auth=None)
    assert st == 200, body
    wait_for(lambda: any(r["path"] == "/screen" for r in env.recv.all()), 10, "the screen trigger")
    wait_for(lambda: sum(r["path"] == "/hook" for r in env.recv.all()) >= 2, 10, "the order triggers")
    time.sleep(0.5)
    screens = [json.loads(r["body"]) for r in env.recv.all() if r["path"] == "/screen"]
    # Screens from /v1/screen, /v1/s and the batch: the batch's carries the group.
    assert len(screens) == 3 and {"c": "g1", "g": "acme"} in screens, screens
    orders = [r for r in env.recv.all() if r["path"] == "/hook"]
    assert len(orders) == 2, orders  # b1 and beacon-1: "Seen" is not an order
    st, prof = n.admin("GET", "/v1/customers/g1")
    assert json.loads(prof)["traits"]["group"] == {"id": "acme", "traits": {"plan": "gold"}}, prof
    assert n.stop() == 0


def bomb():
    return gzip.compress(b"{\"batch\":[" + b" " * (64 << 20) + b"]}", 9)


BAD = [
    # name, path, body, headers, auth, status, code
    ("not JSON", "/v1/track", "{\"userId\": ", {}, KEY, 400, "invalid_json"),
    ("not an object", "/v1/track", "[1,2]", {}, KEY, 400, "invalid_json"),
    ("no userId or anonymousId", "/v1/track", {"event": "E"}, {}, KEY, 400, "invalid_message"),
    ("a track without event", "/v1/t", {"userId": "u"}, {}, KEY, 400, "invalid_message"),
    ("an unknown type in a batch refuses it whole", "/v1/batch",
     {"batch": [track("ok-1"), {"type": "purchase", "userId": "u"}, track("ok-2")]}, {}, KEY, 400, "invalid_message"),
    ("a bad message in a batch refuses it whole", "/v1/b",
     {"batch": [track("ok-1"), {"type": "track", "userId": "u"}]}, {}, KEY, 400, "invalid_message"),
    ("a message over 32 KiB", "/v1/track", track(p="x" * (33 * 1024)), {}, KEY, 413, "too_large"),
    ("a batch over 500 KiB", "/v1/batch", {"batch": [track("big-%d" % i, p="x" * 20000) for i in range(26)]},
     {}, KEY, 413, "too_large"),
    ("a batch over 2,500 messages", "/v1/batch", {"batch": [{"type": "page", "userId": "u"}] * 2501}, {}, KEY, 413,
     "too_large"),
    ("a gzip bomb", "/v1/batch", bomb(), {"Content-Encoding": "gzip"}, KEY, 413, "too_large"),
    ("gzip that is not gzip", "/v1/batch", b"\x1f\x8bnot really", {"Content-Encoding": "gzip"}, KEY, 400,
     "invalid_request"),
    ("an unknown Content-Encoding", "/v1/track", track(), {"Content-Encoding": "br"}, KEY, 400, "invalid_request"),
    ("no write key", "/v1/track", track(), {}, None, 401, "unauthorized"),
    ("an unknown write key (Basic)", "/v1/track", track(), {}, "wk_other", 401, "unauthorized"),
    ("an unknown write key (body)", "/v1/track", dict(track(), writeKey="wk_other"), {}, None, 401, "unauthorized"),
    ("Basic that is not base64", "/v1/track", track(), {"Authorization": "Basic %%%"}, None, 401, "unauthorized"),
    ("a wrong Basic beats a right body key", "/v1/track", dict(track(), writeKey=KEY), {}, "wk_other", 401,
     "unauthorized"),
    ("an unknown path", "/v1/purchase", track(), {}, KEY, 404, "not_found"),
    ("GET", "/v1/track", None, {}, KEY, 405, "method_not_allowed"),
]


def test_collector_refuses_bad_input_and_writes_nothing(env):
    """Each bad input of SPEC 1.2 and issue 17: its status, Segment's error
    shape, and not one entry written; then a good request still works."""
    n, port = collector(env)
    for name, path, body, headers, auth, status, code in BAD:
        before = events(env)
        st, h, text = post(port, path, body, headers=headers, auth=auth,
                           method="GET" if name == "GET" else "POST")
        assert st == status, (name, st, text)
        j = json.loads(text)
        assert j["success"] is False and j["code"] == code and j["message"], (name, j)
        assert h["content-type"] == "application/json", (name, h)
        assert events(env) == before, (name, "wrote", events(env) - before)
    st, _, text = post(port, "/v1/track", track("after-all"))
    assert st == 200, text
    wait_for(lambda: env.recv.count() == 1, 10, "the good request's webhook")
    assert n.stop() == 0


def test_collector_gzip_clock_and_batch_context(env):
    """gzip labelled as a form (RudderStack's Node library), the clock-skew
    correction, and a batch's context merged into each message."""
    n, port = collector(env)
    body = {"sentAt": "2030-01-01T00:00:10Z", "context": {"ip": "1.2.3.4", "locale": "nl"},
            "batch": [dict(track("skew"), type="track", messageId="skew-1", originalTimestamp="2030-01-01T00:00:00Z",
                           context={"locale": "de"})]}
    t0 = time.time()
    st, _, text = post(port, "/v1/batch", gzip.compress(json.dumps(body).encode()),
                       headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"})
    assert st == 200, text
    (_, _, f), = event_entries(env.redis.client)
    m = json.loads(f["message"])
    assert m["context"] == {"ip": "1.2.3.4", "locale": "de"}, m
    # The client's clock is 4 years ahead; the event happened 10 s before it sent.
    received = time.mktime(time.strptime(m["receivedAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    ts = time.mktime(time.strptime(m["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(received - t0) < 5 and 9 <= received - ts <= 11, (m["receivedAt"], m["timestamp"])
    assert n.stop() == 0


def test_collector_cors(env):
    n, port = collector(env, conf="cors_origins = https://shop.example https://www.shop.example\n")
    pre = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type, x-retry-count, rsa-request-id"}
    st, h, _ = post(port, "/v1/t", None, headers=pre, method="OPTIONS", auth=None)
    assert st == 204 and h["access-control-allow-origin"] == "https://shop.example", (st, h)
    allow = h["access-control-allow-headers"].lower()
    for want in ("authorization", "content-type", "x-retry-count", "anonymousid", "sentat", "rsa-request-id"):
        assert want in allow, (want, allow)
    assert "post" in h["access-control-allow-methods"].lower() and int(h["access-control-max-age"]) > 0, h
    assert h["access-control-expose-headers"] == "Retry-After", h
    st, h, _ = post(port, "/v1/t", track(), headers={"Origin": "https://www.shop.example"})
    assert st == 200 and h["access-control-allow-origin"] == "https://www.shop.example", h
    for foreign in ("https://evil.example", "https://shop.example.evil", "https://shop"):
        st, h, _ = post(port, "/v1/t", None, headers=dict(pre, Origin=foreign), method="OPTIONS", auth=None)
        assert "access-control-allow-origin" not in h, (foreign, h)
    assert n.stop() == 0


def test_collector_backpressure(env):
    """429 with Retry-After while lag plus pending is over max_backlog (read
    from a cached XINFO GROUPS), 503 with Retry-After while Redis is down;
    nothing written either way; 200 again when each clears."""
    r = env.redis.client
    # Before nudged starts: 8 entries pending with another consumer of the
    # group (claim_idle is long, so nudged leaves them there).
    r.xgroup_create("nudged:events", "nudged", id="$", mkstream=True)
    for i in range(8):
        r.xadd("nudged:events", {"message": json.dumps(track("bp-%d" % i, name="Seen"))})
    held = r.xreadgroup("nudged", "test-holder", {"nudged:events": ">"}, count=100)[0][1]
    n, port = collector(env, conf="max_backlog = 5\n[redis]\nclaim_idle = 60s\n")
    wait_for(lambda: post(port, "/v1/t", track())[0] == 429, 5, "a 429")
    before = events(env)
    st, h, text = post(port, "/v1/t", track())
    assert st == 429 and int(h["retry-after"]) > 0 and json.loads(text)["code"] == "rate_limited", (st, h, text)
    assert events(env) == before
    r.xack("nudged:events", "nudged", *[e[0] for e in held])
    wait_for(lambda: post(port, "/v1/t", track("after-backlog"))[0] == 200, 5, "200 once the backlog clears")
    env.redis.stop()
    st, h, text = post(port, "/v1/t", track())
    assert st == 503 and int(h["retry-after"]) > 0 and json.loads(text)["code"] == "unavailable", (st, h, text)
    env.redis.start()
    wait_for(lambda: post(port, "/v1/t", track("after-restart"))[0] == 200, 15, "200 once Redis is back")
    assert n.stop() == 0


def test_collector_write_keys_reload(env):
    n, port = collector(env)
    kf = os.path.join(env.dir, "write_keys")
    with open(kf, "w") as f:
        f.write("# rotated\nwk_new\n")
    n.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: post(port, "/v1/t", track(), auth="wk_new")[0] == 200, 5, "the new key")
    assert post(port, "/v1/t", track())[0] == 401
    with open(kf, "w") as f:
        f.write("\n")  # no key: the reload fails and the keys stay
    assert n.admin("POST", "/v1/reload")[0] == 422
    assert post(port, "/v1/t", track(), auth="wk_new")[0] == 200
    assert n.stop() == 0


def test_collector_hostile_clients_do_not_stall(env):
    """Idle sockets, a client that trickles its headers, and an oversized
    header: the collector and the admin listener still answer at once and
    the webhooks still go out."""
    n, port = collector(env)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(200)]
    trickle = socket.create_connection(("127.0.0.1", port))
    trickle.sendall(b"POST /v1/t HTTP/1.1\r\nHost: x\r\n")
    huge = socket.create_connection(("127.0.0.1", port))
    huge.sendall(b"POST /v1/t HTTP/1.1\r\nX-Big: " + b"a" * (64 * 1024) + b"\r\n\r\n")
    try:
        t0 = time.time()
        st, _, _ = post(port, "/v1/t", track("while-hostile"))
        assert st == 200 and time.time() - t0 < 1, st
        assert n.admin("GET", "/healthz")[0] == 200
        wait_for(lambda: env.recv.count() == 1, 10, "the webhook")
        huge.settimeout(5)
        answer = huge.recv(200)
        assert answer == b"" or b" 400 " in answer or b" 431 " in answer or b" 413 " in answer, answer
    finally:
        for s in idle + [trickle, huge]:
            s.close()
    assert n.stop() == 0


def test_collector_config_errors():
    """A write keys file that yields no key is a config error (exit 1)."""
    import tempfile
    from harness import NUDGED
    d = tempfile.mkdtemp(prefix="nudged-cli-")
    kf, conf = os.path.join(d, "keys"), os.path.join(d, "nudged.conf")
    os.makedirs(os.path.join(d, "t"))
    for content, want in (("", "holds no key"), ("\n\n", "holds no key"), ("wk 1\n", ":1: a write key has no")):
        with open(kf, "w") as f:
            f.write(content)
        with open(conf, "w") as f:
            f.write("[triggers]\ndir = %s/t\n[http]\nwrite_keys_file = %s\n" % (d, kf))
        p = subprocess.run([NUDGED, "check", "-c", conf], capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and want in p.stdout + p.stderr, (content, p.returncode, p.stdout + p.stderr)


def run_client(client, port, uid, page_port=None):
    env = dict(os.environ, PAGE_PORT=str(page_port or 0))
    p = subprocess.run(["node", os.path.join(CLIENTS, "clients.mjs"), client, "127.0.0.1:%d" % port, KEY, uid],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, (client, p.returncode, p.stdout[-2000:], p.stderr[-2000:])


def test_real_clients_fire_the_trigger_once(env):
    """@segment/analytics-node, @rudderstack/rudder-sdk-node (gzip) and
    analytics-next in headless chromium, unmodified: each customer's order
    fires the trigger exactly once, and the identify reached the profile."""
    page_port = free_port()
    trig = webhook_trigger(env.recv.port, body={"c": "{{customer.id}}", "email": "{{customer.traits.email}}"})
    n, port = collector(env, {"t.json": trig}, conf="cors_origins = http://127.0.0.1:%d\n" % page_port)
    clients = {"segment-node": "cust-segment", "rudder-node": "cust-rudder", "browser": "cust-browser"}
    for client, uid in clients.items():
        run_client(client, port, uid, page_port)
    wait_for(lambda: env.recv.count() >= 3, 15, "three webhooks")
    time.sleep(1)
    got = sorted(json.loads(r["body"])["c"] for r in env.recv.all())
    assert got == sorted(clients.values()), got
    for r in env.recv.all():
        b = json.loads(r["body"])
        assert b["email"] == b["c"] + "@example.com", b
    assert n.stop() == 0


def test_events_retention_trims_read_entries_only(env):
    """The collector writes without MAXLEN; nudged trims what the group has
    read and acked once it is older than events_retention, never a pending
    entry (nor, so, anything after it). One customer, so one shard stream."""
    env.redis.client.config_set("stream-node-max-entries", 2)  # XTRIM ~ removes whole nodes
    n, port = collector(env, conf="[redis]\nevents_retention = 2s\nclaim_idle = 60s\n")
    r = env.redis.client
    stream = shard_stream("ret")
    for i in range(20):
        assert post(port, "/v1/t", track("ret", name="Seen", messageId="ret-%d" % i))[0] == 200
    wait_for(lambda: events_consumed(r), 10, "consumed")
    assert r.xlen(stream) == 20, ("every message in the customer's shard stream", r.xlen(stream))
    assert n.stop() == 0
    held = r.xadd(stream, {"message": json.dumps(track("ret", name="Seen"))})
    r.xreadgroup("nudged", "test-holder", {stream: ">"}, count=10)  # pending, never acked
    after = r.xadd(stream, {"message": json.dumps(track("ret", name="Seen"))})
    n.start()
    wait_for(lambda: r.xlen(stream) <= 4, 20, "the trim (each stream every 8 s)")
    assert r.xrange(stream, held, held), "a pending entry was trimmed"
    assert r.xrange(stream, after, after), "an entry after a pending one was trimmed"
    assert n.stop() == 0


TESTS = [test_collector_config_errors, test_collector_paths_types_and_answers, test_collector_refuses_bad_input_and_writes_nothing,
         test_collector_gzip_clock_and_batch_context, test_collector_cors, test_collector_backpressure,
         test_collector_write_keys_reload, test_collector_hostile_clients_do_not_stall,
         test_real_clients_fire_the_trigger_once, test_events_retention_trims_read_entries_only]
