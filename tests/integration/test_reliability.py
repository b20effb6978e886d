"""Regression tests for what fault injection found (issue 18), against a
real redis-server and the real nudged. Each test gets its own Env."""
import json, os, signal, socket, subprocess, tempfile, time

from harness import NUDGED, event, metric, shard_keys, skey, wait_for, webhook_trigger


def test_entry_with_two_message_fields_or_an_event_field_is_rejected(env):
    """An events entry needs exactly one field "message": two are refused
    (neither is the producer's for sure; the first was leaked and the
    entry dropped before), and a field "event" is not a message."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    two = r.execute_command("XADD", "nudged:events", "*", "message", event("a1", mid="first"), "message",
                            event("a2", mid="second"))
    ev = r.xadd("nudged:events", {"event": event("a3", mid="as-event")})
    r.xadd("nudged:events", {"message": event("dave", mid="after")})
    wait_for(lambda: env.recv.count() == 1, 10, "the webhook of the entry behind")
    wait_for(lambda: r.xlen("nudged:rejected") == 2, 5, "two rejected entries")
    rejected = {f["id"]: f["error"] for _, f in r.xrange("nudged:rejected")}
    assert "2 fields \"message\"" in rejected[two], rejected
    assert "no field \"message\"" in rejected[ev], rejected
    time.sleep(0.5)
    assert [json.loads(q["body"])["customer"]["id"] for q in env.recv.all()] == ["dave"], env.recv.all()
    assert n.stop() == 0


def test_a_notify_socket_nobody_reads_does_not_stop_the_loop(env):
    """sd_notify datagrams to a socket that is never read: the socket's
    queue fills after ~10, and a blocking send froze the loop for good.
    Deliveries, /healthz and SIGTERM must still work."""
    path = os.path.join(env.dir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)  # never read
    try:
        n = env.nudged({"t.json": webhook_trigger(env.recv.port)},
                       extra_env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        n.start()
        wait_for(lambda: n.log_has("nudged ready"), 15, "ready")
        time.sleep(2)  # 20 watchdog pings: the queue is long full
        assert n.admin("GET", "/healthz")[0] == 200
        env.redis.client.xadd("nudged:events", {"message": event("nora", mid="n-1")})
        wait_for(lambda: env.recv.count() == 1, 10, "the webhook")
        assert n.stop(timeout=10) == 0
    finally:
        s.close()


def test_admin_token_file_without_a_token_is_a_config_error():
    d = tempfile.mkdtemp(prefix="nudged-cli-")
    tok, conf = os.path.join(d, "token"), os.path.join(d, "nudged.conf")
    os.makedirs(os.path.join(d, "t"))
    for content in ("", "\n", "\nthe-token-on-line-2\n", "   \n"):
        with open(tok, "w") as f:
            f.write(content)
        with open(conf, "w") as f:
            f.write("[triggers]\ndir = %s/t\n[http]\nadmin_token_file = %s\n" % (d, tok))
        p = subprocess.run([NUDGED, "check", "-c", conf], capture_output=True, text=True, timeout=30)
        out = p.stdout + p.stderr
        assert p.returncode == 1 and "token:1: http.admin_token_file must hold the token" in out, (content, out)


def check_dir(files, conf=""):
    """nudged check on a trigger directory of FILES (name -> text, or None
    for a FIFO): (exit code, output)."""
    d = tempfile.mkdtemp(prefix="nudged-cli-")
    tdir, cpath = os.path.join(d, "t"), os.path.join(d, "nudged.conf")
    os.makedirs(tdir)
    for name, text in files.items():
        if text is None:
            os.mkfifo(os.path.join(tdir, name))
        else:
            with open(os.path.join(tdir, name), "w") as f:
                f.write(text)
    with open(cpath, "w") as f:
        f.write("[triggers]\ndir = %s\n%s" % (tdir, conf))
    p = subprocess.run([NUDGED, "check", "-c", cpath], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def test_trigger_directory_limits():
    """A FIFO named *.json is refused, not waited on (it blocked check and
    reload for good); a webhook timeout not below claim_idle is an error
    (3 of 5 slow deliveries went twice); more than 100,000 triggers are an
    error that says so, and loading is linear (100,000 took minutes)."""
    hook = {"id": "a", "on": "X", "actions": [{"webhook": {"url": "http://127.0.0.1:1/x", "timeout": "90s"}}]}
    rc, out = check_dir({"a.json": json.dumps(dict(hook, id="ok")), "p.json": None})
    assert rc == 1 and "p.json: not a regular file" in out, out
    rc, out = check_dir({"a.json": json.dumps(hook)}, "[redis]\nclaim_idle = 60s\n")
    assert rc == 1 and 'trigger "a": actions[0].webhook.timeout: 90000ms must be shorter than redis.claim_idle' in out, out
    rc, out = check_dir({"a.json": json.dumps(hook)}, "[redis]\nclaim_idle = 120s\n")
    assert rc == 0, out
    many = [{"id": "t%d" % i, "on": "E%d" % (i % 5000), "actions": [{"score": 1}]} for i in range(100001)]
    rc, out = check_dir({"big.json": json.dumps(many)})
    assert rc == 1 and "more than 100000 triggers" in out, out[-500:]
    rc, out = check_dir({"big.json": json.dumps(many[:100000])})
    assert rc == 0 and "ok, 100000 triggers" in out, out[-500:]


def test_admin_customer_id_with_nul_is_refused(env):
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": event("v", mid="v-1")})
    wait_for(lambda: env.recv.count() == 1, 10, "customer v")
    for path in ("/v1/customers/v%00zzz", "/v1/customers/v%00"):
        st, body = n.admin("DELETE", path)
        assert st == 400, (path, st, body)
    assert n.admin("GET", "/v1/customers/v")[0] == 200, "customer v was erased"
    assert n.stop() == 0


def test_admin_listener_caps_headers_and_times_out_idle_clients(env):
    """A huge header line is cut off at the cap, not buffered; idle sockets
    are closed after the timeout; the listener keeps answering."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    big = socket.create_connection(("127.0.0.1", n.admin_port))
    big.settimeout(5)
    try:
        big.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20))
    except OSError:
        pass  # the server closed it mid-send: what a cap does
    try:
        answer = big.recv(100)
    except OSError:
        answer = b""
    assert answer == b"" or b" 400 " in answer or b" 413 " in answer or b" 431 " in answer, answer
    big.close()
    assert n.admin("GET", "/healthz")[0] == 200
    assert n.stop() == 0


def redrive(n, *args):
    p = subprocess.run([NUDGED, "redrive", "-c", n.conf] + list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def test_redrive_sends_dead_deliveries_again_with_their_webhook_id(env):
    """A receiver fails until it is fixed: the deliveries go dead; a dry run
    moves nothing; --trigger and --since filter; two redrives at once send
    each delivery once, with the webhook-id of its failed attempts."""
    fixed = {"now": False}
    env.recv.script = lambda path, k: 200 if fixed["now"] else 500
    n = env.nudged({"t.json": [webhook_trigger(env.recv.port), webhook_trigger(env.recv.port, tid="t2", on="Other")]})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": event("ann", mid="a-1")})
    r.xadd("nudged:events", {"message": event("bob", mid="b-1")})
    wait_for(lambda: r.xlen("nudged:dead") == 2, 30, "two dead deliveries")
    failed_ids = {q["headers"]["webhook-id"] for q in env.recv.all()}
    assert len(failed_ids) == 2, failed_ids
    fixed["now"] = True
    rc, out, err = redrive(n, "--dry-run")
    assert rc == 0 and out.count("would move") == 2 and r.xlen("nudged:dead") == 2, (rc, out, err)
    rc, out, err = redrive(n, "--trigger", "t2")
    assert rc == 0 and out == "" and "0 deliveries moved" in err, (out, err)
    rc, out, err = redrive(n, "--since", "soon")
    assert rc == 2 and "--since takes a duration" in err, err
    before = env.recv.count()
    before_redrive = {c: r.xinfo_stream(skey("nudged:actions", c))["entries-added"] for c in ("ann", "bob")}
    procs = [subprocess.Popen([NUDGED, "redrive", "-c", n.conf, "--trigger", "t1", "--since", "1h"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=30) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(o.count("moved ") for o, _ in outs) == 2, outs
    wait_for(lambda: env.recv.count() == before + 2, 15, "the two redriven deliveries")
    time.sleep(1)
    again = [q for q in env.recv.all()[before:]]
    assert len(again) == 2 and {q["headers"]["webhook-id"] for q in again} == failed_ids, again
    assert r.xlen("nudged:dead") == 0
    added = {c: r.xinfo_stream(skey("nudged:actions", c))["entries-added"] for c in ("ann", "bob")}
    assert added == {c: before_redrive[c] + 1 for c in added}, (added, before_redrive)  # each in its shard's outbox
    assert sum(r.xinfo_stream(k)["entries-added"] for k in shard_keys("nudged:actions")) == sum(added.values())
    assert n.stop() == 0


def test_redis_out_of_memory_is_said_and_waited_out(env):
    """Redis at maxmemory with noeviction: the log says what happened,
    /healthz is 503 with the reason, the event is counted once however often
    it is retried, and it is applied once Redis has room. A restart while
    Redis is full still gets ready: the existing group is enough."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.config_set("maxmemory-policy", "noeviction")
    n.proc.send_signal(signal.SIGSTOP)  # so the event waits while Redis fills
    try:
        r.xadd("nudged:events", {"message": event("olga", mid="o-1")})
        r.config_set("maxmemory", 1)
    finally:
        n.proc.send_signal(signal.SIGCONT)
    wait_for(lambda: n.log_has("Redis refuses writes: out of memory"), 10, "the out-of-memory log line")
    st, body = n.admin("GET", "/healthz")
    assert st == 503 and "out of memory" in body, (st, body)
    time.sleep(2)  # several retries
    assert metric(n, "nudged_events_consumed_total") == 1, metric(n, "nudged_events_consumed_total")
    assert metric(n, "nudged_redis_refused_writes_total") >= 1
    with open(n.log) as f:
        assert f.read().count("Redis refuses writes") == 1, "logged on every retry"
    assert n.stop() == 0
    n.start()  # Redis still full: the group exists, which is enough
    wait_for(lambda: open(n.log).read().count("nudged ready") == 2, 15, "ready again while Redis is full")
    assert env.recv.count() == 0
    r.config_set("maxmemory", 0)
    wait_for(lambda: env.recv.count() == 1, 15, "the event applied once Redis has room")
    wait_for(lambda: n.admin("GET", "/healthz")[0] == 200, 15, "healthy again")
    assert n.stop() == 0


def test_admin_connection_cap_makes_new_clients_wait(env):
    """64 sockets held open (before any token check) fill the admin
    listener's cap: a 65th client waits in the kernel's backlog instead of
    taking a descriptor, and is answered as soon as one closes. Deliveries
    go on meanwhile."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    held = [socket.create_connection(("127.0.0.1", n.admin_port)) for _ in range(64)]
    try:
        wait_for(lambda: n.log_has("connection cap reached"), 5, "the cap")
        late = socket.create_connection(("127.0.0.1", n.admin_port))
        late.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        late.settimeout(1.0)
        try:
            early = late.recv(100)
        except socket.timeout:
            early = b""
        assert early == b"", "answered past the cap: %r" % early
        env.redis.client.xadd("nudged:events", {"message": event("kim", mid="k-1")})
        wait_for(lambda: env.recv.count() == 1, 10, "a delivery while the admin listener is full")
        held.pop().close()
        late.settimeout(5)
        assert b" 200 " in late.recv(200), "not answered once a connection closed"
        late.close()
    finally:
        for s_ in held:
            s_.close()
    assert n.admin("GET", "/healthz")[0] == 200
    assert n.stop() == 0


def test_data_of_another_layout_is_refused_and_left_alone(env):
    """nudged records its layout (version and number of shards) in
    <prefix>layout on a Redis without its data, and refuses (exit 3, a log
    line saying what to do) to start on data of another layout, or of
    another number of shards, before it writes anything."""
    r = env.redis.client
    n = env.nudged({"t.json": webhook_trigger(env.recv.port)})
    n.start().wait_ready(env.redis)
    assert r.hgetall("nudged:layout") == {"version": "6", "shards": "16"}, r.hgetall("nudged:layout")
    assert n.stop() == 0
    stored = [("string", "1", "Redis holds nudged data of layout 1 under this prefix"),
              ("hash", {"version": "2", "shards": "16"}, "Redis holds nudged data of layout 2 under this prefix"),
              ("hash", {"version": "6", "shards": "8"},
               "[redis] shards is 16, but the data under this prefix was written with 8 shards")]
    for kind, value, said in stored:
        r.flushall()
        if kind == "string":
            r.set("nudged:layout", value)
        else:
            r.hset("nudged:layout", mapping=value)
        n2 = env.nudged({"t.json": webhook_trigger(env.recv.port)})
        check = subprocess.run([NUDGED, "check", "-c", n2.conf], capture_output=True, text=True, timeout=10)
        assert check.returncode == 1 and said in check.stderr, ("nudged check says so", check)
        n2.start()
        assert n2.proc.wait(timeout=15) == 3
        assert n2.log_has(said), open(n2.log).read()
        assert r.keys("*") == ["nudged:layout"], r.keys("*")
    n3 = env.nudged({"t.json": webhook_trigger(env.recv.port)}, extra_env={"NUDGED_REDIS_SHARDS": "8"})
    n3.start().wait_ready(env.redis)
    assert r.hgetall("nudged:layout") == {"version": "6", "shards": "8"}
    check = subprocess.run([NUDGED, "check", "-c", n3.conf], capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, NUDGED_REDIS_SHARDS="8"))
    assert check.returncode == 0 and "ok, 1 triggers" in check.stdout, check
    assert n3.stop() == 0


TESTS = [test_admin_token_file_without_a_token_is_a_config_error, test_data_of_another_layout_is_refused_and_left_alone, test_trigger_directory_limits,
         test_admin_connection_cap_makes_new_clients_wait, test_redis_out_of_memory_is_said_and_waited_out, test_redrive_sends_dead_deliveries_again_with_their_webhook_id, test_entry_with_two_message_fields_or_an_event_field_is_rejected,
         test_a_notify_socket_nobody_reads_does_not_stop_the_loop, test_admin_customer_id_with_nul_is_refused,
         test_admin_listener_caps_headers_and_times_out_idle_clients]
