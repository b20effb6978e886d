"""Integration tests of the events pipeline: bad entries rejected and the
rest processed, kill -9 and Redis restarts losing nothing, systemd notify,
reloads, entries that crash every process set aside."""
import json, os, signal, socket, subprocess, threading, time

from harness import NUDGED, ckey, Env, Nudged, Redis, event, events_consumed, no_pending, scheduled, shard_stream, wait_for, webhook_trigger, no_pending_all, schedule_items, skey, shard_keys, measures


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
        wait_for(lambda: events_consumed(r), 5, "everything acked")
        assert n.stop() == 0
    finally:
        env.close()


def test_a_key_of_the_wrong_type_rejects_only_its_event():
    """A batch reads its customers' profiles together; a customer whose
    profile key holds a string fails alone (its event rejected, with
    Redis's error), the events around it fire."""
    env = Env()
    try:
        r = env.redis.client
        r.set(ckey("broken", "p"), "not a hash")
        for who in ["ann", "broken", "bob"]:
            r.xadd("nudged:events", {"message": event(who, mid="m-" + who)})
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})})
        n.start().wait_ready(env.redis)
        wait_for(lambda: env.recv.count() == 2, 10, "the two good webhooks")
        wait_for(lambda: r.xlen("nudged:rejected") == 1, 5, "the broken customer's event rejected")
        (_, f), = r.xrange("nudged:rejected")
        assert "WRONGTYPE" in f["error"] and json.loads(f["message"])["userId"] == "broken", f
        assert distinct_fired(env) == {"m-ann", "m-bob"}, distinct_fired(env)
        wait_for(lambda: events_consumed(r), 5, "everything acked")
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
        f = r.hget(ckey("cust-%d" % c, "p"), "e:Order Completed")
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
        wait_for(lambda: events_consumed(r) and no_pending_all(r, "nudged:actions"), 30, "no pending")
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
        wait_for(lambda: events_consumed(r) and no_pending_all(r, "nudged:actions"), 30, "no pending")
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
        wait_for(lambda: events_consumed(r), 10, "nothing pending")
        rej = r.xrange("nudged:rejected")[0][1]
        assert rej["id"] == poison and "delivered 5 times" in rej["error"], rej
        assert json.loads(rej["message"])["messageId"] == "poison"
        time.sleep(0.5)
        mids = [json.loads(q["body"])["mid"] for q in env.recv.all()]
        assert mids == ["healthy"], mids
        assert n.stop() == 0
    finally:
        env.close()


def test_shard_streams_and_the_inbox():
    """SPEC 8: producers write a customer's events to its shard's stream
    (what `nudged shard ID` prints), or to the inbox; nudged reads both.
    Per shard stream, a bad entry is rejected with its own id, and an entry
    left pending by a crashed consumer is claimed and fired."""
    env = Env()
    try:
        r = env.redis.client
        zoe = shard_stream("zoe")
        r.xgroup_create(zoe, "nudged", id="0", mkstream=True)
        r.xadd(zoe, {"message": event("zoe", mid="zoe-crashed")})
        r.xreadgroup("nudged", "crashed-host-2", {zoe: ">"}, count=1)  # pending, its consumer gone
        customers = ["c%d" % i for i in range(40)]
        for c in customers:
            r.xadd(shard_stream(c), {"message": event(c, mid="s-" + c)})
            r.xadd("nudged:events", {"message": event(c, mid="i-" + c)})
        bad = r.xadd(shard_stream("c7"), {"message": "{not json"})
        n = env.nudged({"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})})
        n.start().wait_ready(env.redis)
        want = {"zoe-crashed"} | {p + c for c in customers for p in ("s-", "i-")}
        wait_for(lambda: distinct_fired(env) == want, 20, "a webhook for every event of every stream")
        wait_for(lambda: events_consumed(r), 10, "every events stream read and acked")
        assert len({shard_stream(c) for c in customers}) > 8, "the test's customers span the shards"
        (_, rej), = r.xrange("nudged:rejected")
        assert rej["id"] == bad and "JSON" in rej["error"], rej
        assert env.recv.count() == len(want), "nothing fired twice: %d webhooks" % env.recv.count()
        assert n.stop() == 0
        for shards in (16, 4, 1):
            out = subprocess.run([NUDGED, "shard", "-c", n.conf, "zoe"], capture_output=True, text=True,
                                 env=dict(os.environ, NUDGED_REDIS_SHARDS=str(shards)), timeout=10)
            assert (out.returncode, out.stdout) == (0, shard_stream("zoe", shards) + "\n"), (shards, out)
        out = subprocess.run([NUDGED, "shard", "-c", n.conf], capture_output=True, text=True, timeout=10)
        assert out.returncode == 2 and "shard needs a customer id" in out.stderr, out
    finally:
        env.close()


def test_keys_of_the_wrong_type_a_commit_writes_do_not_stall_it():
    """Two keys a round's commit writes without reading them: a customer's
    schedule index holding a string is found when their profile is read
    (their event rejected with Redis's error, the others go on); a
    trigger's counts key holding a string leaves its counts out when the
    shard's owner folds its tallies (the list here holds 1,023 already, one
    of them damaged, so the round's tally makes the fold due), said in the
    log, and the round is written with its firings and the other
    trigger's counts."""
    env = Env()
    try:
        r = env.redis.client
        r.set(ckey("sched", "s"), "not a set")
        # ann's round pushes its tally to ann's shard's list (the round's
        # first entry is hers), which that makes due for a fold
        tally, hashes = skey("nudged:tally", "ann"), skey("nudged:measures", "ann")
        r.set(hashes + ":counted", "not a hash")
        r.rpush(tally, *["other t 1"] * 1022 + ["not a tally"])
        counted = webhook_trigger(env.recv.port, tid="counted", body={"t": "counted", "c": "{{customer.id}}"})
        counted["holdout"] = "0.01%"
        other = webhook_trigger(env.recv.port, tid="other", body={"t": "other", "c": "{{customer.id}}"})
        other["holdout"] = "0.01%"
        later = webhook_trigger(env.recv.port, tid="later", delay="1h")
        n = env.nudged({"t.json": [counted, other, later]})
        n.start().wait_ready(env.redis)
        for who in ["ann", "sched", "bob"]:
            r.xadd("nudged:events", {"message": event(who, mid="m-" + who)})
        wait_for(lambda: r.xlen("nudged:rejected") == 1, 10, "the event of the customer with the broken index")
        (_, f), = r.xrange("nudged:rejected")
        assert "WRONGTYPE" in f["error"] and json.loads(f["message"])["userId"] == "sched", f
        wait_for(lambda: env.recv.count() == 4, 10, "ann's and bob's webhooks")
        wait_for(lambda: events_consumed(r), 5, "everything acked")
        got = sorted((json.loads(q["body"])["t"], json.loads(q["body"])["c"]) for q in env.recv.all())
        assert got == [("counted", "ann"), ("counted", "bob"), ("other", "ann"), ("other", "bob")], got
        # Folded once, within a tick (ann's and bob's rounds may be one
        # commit or two: the second one's tally may wait for the next fold).
        wait_for(lambda: r.exists(hashes + ":other"), 5, "the fold")
        assert int(r.hget(hashes + ":other", "t")) >= 1023, r.hgetall(hashes + ":other")
        assert measures(r)["other:t"] == 1024, measures(r)  # folded, or waiting in a list (bob's may be another)
        assert n.log_has("a tally that is not one was dropped") and n.log_has("not a tally")
        assert r.get(hashes + ":counted") == "not a hash"
        assert n.log_has("counts were not kept") and n.log_has(hashes + ":counted")
        assert scheduled(r) == 2, schedule_items(r)  # ann's and bob's waiting firings
        assert n.stop() == 0
    finally:
        env.close()




def test_a_tally_list_of_the_wrong_type_does_not_stall_the_rounds():
    """The shards' tally lists holding strings: every round's commit would fail to
    push its counts. The rounds are written without them, and the log
    says which key to delete."""
    env = Env()
    try:
        r = env.redis.client
        for key in shard_keys("nudged:tally"):
            r.set(key, "not a list")
        counted = webhook_trigger(env.recv.port, tid="counted", body={"c": "{{customer.id}}"})
        counted["holdout"] = "0.01%"
        n = env.nudged({"t.json": [counted]})
        n.start().wait_ready(env.redis)
        for who in ["ann", "bob"]:
            r.xadd("nudged:events", {"message": event(who, mid="m-" + who)})
        wait_for(lambda: env.recv.count() == 2, 10, "ann's and bob's webhooks")
        wait_for(lambda: events_consumed(r), 5, "everything acked")
        assert all(r.get(key) == "not a list" for key in shard_keys("nudged:tally"))
        assert n.log_has("the tally list holds something else") and n.log_has("nudged:tally:{")
        assert n.stop() == 0
    finally:
        env.close()


TESTS = [test_malformed_entries_rejected_and_rest_processed, test_shard_streams_and_the_inbox, test_a_key_of_the_wrong_type_rejects_only_its_event, test_keys_of_the_wrong_type_a_commit_writes_do_not_stall_it,
         test_a_tally_list_of_the_wrong_type_does_not_stall_the_rounds, test_crash_kill9_recovers_everything, test_redis_restart_while_running, test_notify_ready_and_stopping, test_reload_keeps_old_set_on_error_and_swaps_on_success, test_entry_delivered_too_often_is_set_aside]


class Proxy:
    """A TCP proxy on a free port in front of one Redis, which a failover
    switches to another for new connections only, as a Sentinel-managed
    name or a virtual IP does: the connections made before stay with the
    old primary."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # stopped
            server = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.listener.close()
        for s in self.socks:
            s.close()


def test_a_failover_behind_one_address_costs_a_reconnect():
    """nudged reaches Redis through one address, as behind a Sentinel-managed
    name. The primary fails over to its replica; the old primary, now a
    replica, keeps nudged's connections and answers READONLY. nudged drops
    them, connects to the address again, reaches the new primary, and the
    next event fires."""
    env = Env()
    os.makedirs(env.dir + "/replica")
    replica = Redis(env.dir + "/replica")
    proxy = Proxy(env.redis.port)
    try:
        a, b = env.redis.client, replica.client
        b.replicaof("127.0.0.1", env.redis.port)
        wait_for(lambda: b.info("replication").get("master_link_status") == "up", 10, "the replica in sync")
        n = Nudged(os.path.join(env.dir, "n0"), proxy.port, {"t.json": webhook_trigger(env.recv.port, body={"c": "{{customer.id}}"})})
        env.daemons.append(n)
        n.start().wait_ready(env.redis)
        a.xadd(shard_stream("ann"), {"message": event("ann", mid="before")})
        wait_for(lambda: env.recv.count() == 1, 10, "the webhook before the failover")
        wait_for(lambda: events_consumed(a), 5, "acked before the failover")
        assert a.wait(1, 5000) == 1
        b.replicaof("no", "one")
        proxy.target = replica.port
        a.replicaof("127.0.0.1", replica.port)
        b.xadd(shard_stream("bob"), {"message": event("bob", mid="after")})
        wait_for(lambda: env.recv.count() == 2, 20, "the webhook after the failover")
        wait_for(lambda: events_consumed(b), 10, "acked on the new primary")
        assert sorted(json.loads(q["body"])["c"] for q in env.recv.all()) == ["ann", "bob"], env.recv.all()
        assert n.log_has("the server became a replica")
        assert n.stop() == 0
    finally:
        proxy.stop()
        replica.stop()
        env.close()


TESTS.append(test_a_failover_behind_one_address_costs_a_reconnect)


def test_an_address_that_leads_to_a_replica_is_tried_less_and_less_often():
    """[redis] url names a replica (a mistake, or a failover not finished):
    every write is answered READONLY. nudged says so and connects again,
    backing off (up to 5 s) instead of reconnecting ten times a second
    for as long as it lasts."""
    env = Env()
    os.makedirs(env.dir + "/replica")
    replica = Redis(env.dir + "/replica")
    try:
        replica.client.replicaof("127.0.0.1", env.redis.port)
        wait_for(lambda: replica.client.info("replication").get("master_link_status") == "up", 10, "the replica")
        n = Nudged(os.path.join(env.dir, "n0"), replica.port, {"t.json": webhook_trigger(env.recv.port)})
        env.daemons.append(n)
        n.start()
        time.sleep(8)
        drops = {}
        with open(n.log) as f:
            for line in f:
                if "the server became a replica" in line:
                    conn = line.split("conn=")[1].split()[0]
                    drops[conn] = drops.get(conn, 0) + 1
        # Each connection tries again after ~0.1, 0.2, 0.4, 0.8, 1.6, 3.2 s:
        # about nine times in 8 s (ten a second would be 80).
        assert drops and max(drops.values()) <= 15, drops
        print("  replica: drops in 8 s by connection %r" % drops)
        assert n.stop() == 0
    finally:
        replica.stop()
        env.close()


TESTS.append(test_an_address_that_leads_to_a_replica_is_tried_less_and_less_often)
