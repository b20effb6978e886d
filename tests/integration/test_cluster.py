"""Redis Cluster (SPEC 8, issue 19): a collector-only nudged writing to a
real Cluster of three masters and three replicas on loopback. Each
message must land in its shard's stream on the master that serves the
shard's slot; a slot that moves (ASK while it migrates, MOVED once it has)
and a master killed with SIGKILL (its replica takes over) cost retries,
not messages. A consumer on the Cluster takes the whole path from the
collector to the webhook, ranks buyers over the masters, rejects what
it must, and goes on when a master dies."""
import json, os, signal, socket, subprocess, time

from harness import NUDGED, RedisCluster, fnv1a32, free_port, metric, wait_for, webhook_trigger
from test_collector import KEY, post
from test_shards import Load

SHARDS = 16


def stream(k):
    return "nudged:events:{%d}" % k


def customers_of(k, n=1):
    """N user ids of shard K."""
    out, i = [], 0
    while len(out) < n:
        uid = "c%d" % i
        if fnv1a32(uid) % SHARDS == k:
            out.append(uid)
        i += 1
    return out


def collector(env, cluster, seeds=1):
    """A collector-only nudged on CLUSTER, given SEEDS of its nodes;
    returns (nudged, port)."""
    port = free_port()
    kf = os.path.join(env.dir, "write_keys")
    with open(kf, "w") as f:
        f.write(KEY + "\n")
    n = env.nudged({}, conf="[redis]\ncluster_nodes = %s\n[http]\ningest_listen = 127.0.0.1:%d\n"
                   "write_keys_file = %s\ncollector_only = yes\n" % (cluster.seeds(seeds), port, kf))
    n.start()
    wait_for(lambda: n.log_has("nudged ready"), 20, "a collector-only nudged on the cluster")
    return n, port


def connections(pid, port):
    """How many TCP connections process PID holds open to PORT on loopback
    (its sockets' inodes, looked up in /proc/net/tcp)."""
    fd_dir = "/proc/%d/fd" % pid
    inodes = set()
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if r[9] in inodes and r[3] == "01" and int(r[2].split(":")[1], 16) == port)


def entries(cluster, key, port=None, asking=False, readonly=False):
    """The messages of stream KEY, read on its master (or on PORT, with
    ASKING first when the slot is being imported there, or READONLY on a
    replica)."""
    r = cluster.node(port or cluster.master_of(key))
    p = r.pipeline(transaction=False)
    if asking or readonly:
        p.execute_command("ASKING" if asking else "READONLY")
    p.xrange(key)
    return [json.loads(f["message"]) for _, f in p.execute()[-1]]


def scripts_loaded(cluster):
    """How many scripts each master holds: nudged loads its scripts on
    every master, so an EVALSHA runs wherever its key leads."""
    return {p: cluster.node(p).info("memory")["number_of_cached_scripts"] for p in cluster.masters()}


def track(uid, i):
    return {"type": "track", "userId": uid, "event": "Viewed", "messageId": "m-%s-%d" % (uid, i),
            "properties": {"i": i}}


def test_cluster_collector_writes_each_message_to_its_shards_master(env):
    """Given one seed, nudged reads the map and writes a batch of 64
    messages for 64 customers: each in its shard's stream on the master
    of that shard's slot, the 16 streams spread over the 3 masters."""
    cluster = RedisCluster(env.dir)
    try:
        n, port = collector(env, cluster, seeds=1)
        batch = [track("u%d" % i, i) for i in range(64)]
        st, _, body = post(port, "/v1/batch", {"batch": batch})
        assert st == 200, (st, body)
        got, homes = {}, set()
        for k in range(SHARDS):
            home = cluster.master_of(stream(k))
            for m in entries(cluster, stream(k), home):
                assert fnv1a32(m["userId"]) % SHARDS == k, (m["userId"], k)
                got[m["messageId"]] = m
                homes.add(home)
        assert sorted(got) == sorted(m["messageId"] for m in batch), sorted(got)
        assert homes == set(cluster.masters()), (homes, cluster.masters())
        st, _ = n.admin("GET", "/healthz")
        assert st == 200, st
        # a collector-only process has no stream readers: its command
        # connection and its collector's, to each master, and no more
        conns = {m: connections(n.proc.pid, m) for m in cluster.masters()}
        assert set(conns.values()) == {2}, ("two connections a master", conns)
        loaded = scripts_loaded(cluster)
        assert len(set(loaded.values())) == 1 and min(loaded.values()) >= 10, ("every master has the scripts", loaded)
        p = subprocess.run([NUDGED, "check", "-c", n.conf], capture_output=True, text=True, timeout=20)
        assert p.returncode == 0 and "did not answer" not in p.stderr, ("check reads the layout on the cluster",
                                                                         p.returncode, p.stderr)
        # A key of the wrong type in one shard fails that request alone,
        # with Redis's error in the log; the others go on.
        victim = customers_of(3)[0]
        cluster.node(cluster.master_of(stream(3))).delete(stream(3))
        cluster.node(cluster.master_of(stream(3))).set(stream(3), "x")
        st, _, _ = post(port, "/v1/batch", {"batch": [track(victim, 1), track(customers_of(4)[0], 1)]})
        assert st == 503 and n.log_has("WRONGTYPE"), st
        assert len(entries(cluster, stream(4))) == 1 + sum(fnv1a32("u%d" % i) % SHARDS == 4 for i in range(64))
        # A master that lost its scripts (a restart) gets them again when
        # nudged connects to it again.
        flushed = cluster.masters()[1]
        cluster.node(flushed).script_flush()
        cluster.node(flushed).client_kill_filter(_type="normal", skipme=True)
        wait_for(lambda: scripts_loaded(cluster)[flushed] == loaded[flushed], 10, "the scripts loaded again")
        assert n.stop() == 0, "a clean stop"
    finally:
        cluster.stop()


def migrate(cluster, slot, src, dst):
    """Starts moving SLOT from SRC to DST and moves its keys (the shard's
    events stream, and its timers stream and outbox, which nudged's setup
    creates), as redis-cli --cluster reshard does: SRC now answers ASK for
    them."""
    ids = {p: cluster.node(p).execute_command("CLUSTER", "MYID") for p in (src, dst)}
    cluster.node(dst).execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src])
    cluster.node(src).execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst])
    keys = cluster.node(src).execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
    if keys:
        cluster.node(src).execute_command("MIGRATE", "127.0.0.1", dst, "", 0, 5000, "KEYS", *keys)
    return ids


def test_cluster_collector_follows_ask_and_moved(env):
    """Shard 5's slot is moved to another master, as redis-cli --cluster
    reshard does: while it migrates, the old master answers ASK and nudged
    writes to the new one with ASKING; once moved, MOVED, and nudged
    writes there and reads the map again."""
    cluster = RedisCluster(env.dir)
    try:
        n, port = collector(env, cluster)
        uid = customers_of(5)[0]
        assert post(port, "/v1/track", track(uid, 0))[0] == 200
        src = cluster.master_of(stream(5))
        dst = [p for p in cluster.masters() if p != src][0]
        slot = cluster.node(src).cluster("keyslot", stream(5))
        ids = migrate(cluster, slot, src, dst)
        st, _, body = post(port, "/v1/track", track(uid, 1))
        assert st == 200, (st, body)
        assert [m["messageId"] for m in entries(cluster, stream(5), dst, asking=True)] == \
            ["m-%s-0" % uid, "m-%s-1" % uid], "written on the importing master, after ASK"
        for p in cluster.masters():
            cluster.node(p).execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst])
        wait_for(lambda: cluster.master_of(stream(5)) == dst, 10, "the slot to be the new master's")
        st, _, body = post(port, "/v1/track", track(uid, 2))
        assert st == 200, (st, body)
        assert [m["messageId"] for m in entries(cluster, stream(5), dst)][-1] == "m-%s-2" % uid
        assert cluster.node(src).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0, "nothing on the old master"
        wait_for(lambda: open(n.log).read().count("slot map read") >= 2, 10, "the map read again after MOVED")
        assert metric(n, "nudged_redis_cluster_redirects_total") >= 2, "an ASK and a MOVED counted"
        assert metric(n, "nudged_redis_cluster_map_reads_total") >= 2, "the map read twice or more"
    finally:
        cluster.stop()


def test_cluster_collector_goes_on_when_a_master_dies(env):
    """kill -9 the master of shard 7's slot while messages keep coming: its
    replica takes over (about two node timeouts), nudged reads the map
    again and writes there. Requests in between are answered 503 (the
    client retries), never 200 for a message that is not stored; every
    message answered 200 is on the new master."""
    cluster = RedisCluster(env.dir)
    try:
        n, port = collector(env, cluster)
        uid = customers_of(7)[0]
        old = cluster.master_of(stream(7))
        assert post(port, "/v1/track", track(uid, 0))[0] == 200
        replica = [int(r["port"]) for r in [cluster.node(old).info("replication")["slave0"]]][0]
        wait_for(lambda: len(entries(cluster, stream(7), replica, readonly=True)) == 1, 10,
                 "the replica to have the message")
        cluster.kill(old)
        statuses, accepted, i = [], ["m-%s-0" % uid], 0
        end = time.time() + 30
        while time.time() < end:
            i += 1
            st, _, _ = post(port, "/v1/track", track(uid, i))
            statuses.append(st)
            if st == 200:
                accepted.append("m-%s-%d" % (uid, i))
            if statuses[-3:] == [200, 200, 200] and 503 in statuses:
                break
            time.sleep(0.1)
        assert set(statuses) <= {200, 503} and 503 in statuses and statuses[-3:] == [200, 200, 200], statuses
        assert cluster.master_of(stream(7)) == replica
        stored = [m["messageId"] for m in entries(cluster, stream(7), replica)]
        assert stored == accepted, (stored, accepted)
        st, _ = n.admin("GET", "/healthz")
        assert st == 200, st
        print("  failover: %d requests answered 503, then 200 again; %d messages stored, none lost"
              % (statuses.count(503), len(stored)), flush=True)
        assert n.stop() == 0, "a clean stop"
    finally:
        cluster.stop()


def test_cluster_nodes_naming_a_redis_that_is_no_cluster(env):
    """cluster_nodes naming a Redis without Cluster support (a mistake an
    operator can make): the log says why once, /healthz says Redis is not
    connected, the collector answers 503, and nothing is written."""
    port = free_port()
    kf = os.path.join(env.dir, "write_keys")
    with open(kf, "w") as f:
        f.write(KEY + "\n")
    n = env.nudged({}, conf="[redis]\ncluster_nodes = 127.0.0.1:%d\n[http]\ningest_listen = 127.0.0.1:%d\n"
                   "write_keys_file = %s\ncollector_only = yes\n" % (env.redis.port, port, kf))
    n.start()
    wait_for(lambda: n.log_has("cluster support disabled"), 10, "the reason in the log")
    time.sleep(1)
    said = [open(n.log).read().count("cannot read the slot map")]
    time.sleep(2)  # four reads of the map later
    said.append(open(n.log).read().count("cannot read the slot map"))
    assert said[0] == said[1], "said again and again: %s" % said
    st, body = n.admin("GET", "/healthz")
    assert st == 503 and "redis" in body, (st, body)
    st, _, _ = post(port, "/v1/track", track("u1", 1))
    assert st == 503, st
    assert env.redis.client.dbsize() == 0, env.redis.client.keys("*")
    assert n.stop() == 0


def test_cluster_nodes_must_be_addresses(env):
    """cluster_nodes that are not host:port addresses: check and the
    daemon say so, exit 1."""
    d = env.dir
    os.makedirs(os.path.join(d, "t"), exist_ok=True)
    conf = os.path.join(d, "c.conf")
    with open(conf, "w") as f:
        f.write("[redis]\ncluster_nodes = 127.0.0.1\n[triggers]\ndir = %s/t\n" % d)
    for args in (["check"], []):
        p = subprocess.run([NUDGED] + args + ["-c", conf], capture_output=True, text=True, timeout=20)
        assert p.returncode == 1 and "redis.cluster_nodes" in p.stderr, (args, p.returncode, p.stderr)


def consumer(env, cluster, triggers):
    """A whole nudged (collector and consumer) on CLUSTER; returns
    (nudged, collector port)."""
    port = free_port()
    kf = os.path.join(env.dir, "write_keys_c")
    with open(kf, "w") as f:
        f.write(KEY + "\n")
    n = env.nudged(triggers, conf="[redis]\ncluster_nodes = %s\n[http]\ningest_listen = 127.0.0.1:%d\n"
                   "write_keys_file = %s\n" % (cluster.seeds(1), port, kf))
    n.start()
    wait_for(lambda: n.log_has("nudged ready"), 20, "a nudged on the cluster")
    wait_for(lambda: metric(n, "nudged_shards_owned") == SHARDS, 20, "the shards owned")
    return n, port


def order(uid, i, total):
    return {"type": "track", "userId": uid, "event": "Order Completed", "messageId": "o-%s-%d" % (uid, i),
            "properties": {"total": total}}


def commands(cluster, name):
    """Calls of command NAME on each master (INFO commandstats)."""
    out = {}
    for p in cluster.masters():
        st = cluster.node(p).info("commandstats").get("cmdstat_" + name, {})
        out[p] = st.get("calls", 0)
    return out


def test_cluster_consumer_runs_the_whole_path(env):
    """A nudged on a Cluster of three masters: orders of 48 customers (3 a
    shard) come in through the collector and each fires its webhook once;
    each master carries its shards' share of the commits. Pings then see
    each customer's value tier and percentile among the buyers of every
    shard (a rank call a shard, summed). An event in another shard's
    stream and one that is no JSON are rejected with their reason; an
    identify that links ids of one shard merges, one of two shards is
    applied without the merge and counted. report, forget and redrive
    run on the Cluster."""
    cluster = RedisCluster(env.dir)
    hook = "http://127.0.0.1:%d" % env.recv.port
    trigs = [webhook_trigger(env.recv.port), {"id": "points", "on": "Order Completed", "actions": [{"score": 1}]},
             webhook_trigger(env.recv.port, tid="doomed", on="Doomed", path="/doomed"),
             {"id": "ping", "on": "Ping",
              "actions": [{"webhook": {"url": hook + "/ping", "body": {
                  "c": "{{customer.id}}", "t": "{{customer.value_tier | default: \"none\"}}",
                  "p": "{{customer.value_percentile | default: \"none\"}}"}}}]}]
    try:
        n, port = consumer(env, cluster, {"t.json": trigs})
        evals0 = commands(cluster, "evalsha")
        customers = [c for k in range(SHARDS) for c in customers_of(k, 3)]
        revenue = {c: 10 * (i % 7 + 1) for i, c in enumerate(customers)}
        st, _, body = post(port, "/v1/batch", {"batch": [order(c, 0, revenue[c]) for c in customers]})
        assert st == 200, (st, body)
        wait_for(lambda: env.recv.count() >= len(customers), 30, "a webhook an order")
        time.sleep(0.5)
        hooks = [q for q in env.recv.all() if q["path"] == "/hook"]
        assert len(hooks) == len(customers) and len({q["headers"]["webhook-id"] for q in hooks}) == len(hooks)
        evals = commands(cluster, "evalsha")
        share = {p: (evals[p] - evals0.get(p, 0)) for p in evals}
        total = sum(share.values())
        print("  script calls by master while 48 orders were taken: %s" % sorted(share.values()), flush=True)
        assert all(v > total * 0.15 for v in share.values()), ("each master carries its shards", share)
        st, _, body = post(port, "/v1/batch", {"batch": [
            {"type": "track", "userId": c, "event": "Ping", "messageId": "p-" + c} for c in customers]})
        assert st == 200, (st, body)
        wait_for(lambda: sum(q["path"] == "/ping" for q in env.recv.all()) >= len(customers), 30, "the pings")
        buyers = sorted(revenue.values(), reverse=True)
        top = -(-len(buyers) * 20 // 100)
        for q in env.recv.all():
            if q["path"] != "/ping":
                continue
            b = json.loads(q["body"])
            higher = sum(1 for v in buyers if v > revenue[b["c"]])
            assert b["t"] == ("top" if higher < top else "regular"), (b, higher, top)
            assert int(b["p"]) == (len(buyers) - higher) * 100 // len(buyers), (b, higher)
        # the inbox, for producers that do not pick the shard: moved to the
        # customer's shard's stream (on another master), then fired
        inbox = cluster.node(cluster.master_of("nudged:events"))
        before = sum(q["path"] == "/hook" for q in env.recv.all())
        for i, c in enumerate(customers[:8]):
            inbox.xadd("nudged:events", {"message": json.dumps(order(c, 100 + i, 1))})
        wait_for(lambda: sum(q["path"] == "/hook" for q in env.recv.all()) == before + 8, 15, "the inbox's orders")
        wait_for(lambda: inbox.xpending("nudged:events", "nudged")["pending"] == 0, 10, "the inbox acked")
                # rejected: a customer of shard 1 in shard 0's stream; no JSON
        stray = customers_of(1)[0]
        m0 = cluster.node(cluster.master_of(stream(0)))
        home = customers_of(0)[0]
        m0.xadd(stream(0), {"message": json.dumps({"type": "track", "userId": home, "event": "X", "messageId": "x-0"})})
        m0.xadd(stream(0), {"message": json.dumps({"type": "track", "userId": stray, "event": "X"})})
        m0.xadd(stream(0), {"message": "{not json"})
        rej = cluster.node(cluster.master_of("nudged:rejected"))
        wait_for(lambda: rej.xlen("nudged:rejected") == 2, 15, "two entries rejected")
        errors = [f["error"] for _, f in rej.xrange("nudged:rejected")]
        wait_for(lambda: '"X"' in n.admin("GET", "/v1/customers/" + home)[1], 10,
                 "the event of the shard in the same batch applied")
        assert any("belongs to shard 1" in e and "nudged shard ID" in e for e in errors), errors
        # identify: ids of one shard merge, of two shards do not
        anon_same = [a for a in ("anon-%d" % i for i in range(500)) if fnv1a32(a) % SHARDS == 2][0]
        anon_other = [a for a in ("anon-%d" % i for i in range(500)) if fnv1a32(a) % SHARDS == 9][0]
        user = customers_of(2)[0]
        st, _, _ = post(port, "/v1/batch", {"batch": [
            {"type": "track", "anonymousId": anon_same, "event": "Viewed", "messageId": "v-1"},
            {"type": "identify", "anonymousId": anon_same, "userId": user, "messageId": "i-1"},
            {"type": "identify", "anonymousId": anon_other, "userId": user, "messageId": "i-2"}]})
        assert st == 200
        wait_for(lambda: metric(n, "nudged_merges_dropped_total") == 1, 15, "the merge across shards counted")
        wait_for(lambda: "Viewed" in n.admin("GET", "/v1/customers/" + user)[1], 10,
                 "the anonymous id of the same shard merged into the user")
        assert n.log_has("ids of two shards not merged"), "said in the log"
        # a delivery that dies (its receiver fails), then redriven: the
        # dead stream is outside the shards; the redrive puts it back in
        # its customer's shard's outbox, on that shard's master
        fixed = {"now": False}
        env.recv.script = lambda path, k: 500 if path == "/doomed" and not fixed["now"] else 200
        victim = customers_of(11)[0]
        assert post(port, "/v1/track", {"type": "track", "userId": victim, "event": "Doomed", "messageId": "d-1"})[0] \
            == 200
        dead = cluster.node(cluster.master_of("nudged:dead"))
        wait_for(lambda: dead.xlen("nudged:dead") == 1, 30, "the delivery dead")
        fixed["now"] = True
        failed = sum(q["path"] == "/doomed" for q in env.recv.all())
        p = subprocess.run([NUDGED, "redrive", "-c", n.conf], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and "1 deliveries moved" in p.stderr, (p.stdout, p.stderr)
        wait_for(lambda: sum(q["path"] == "/doomed" for q in env.recv.all()) == failed + 1, 15, "redriven")
        time.sleep(0.5)
        tries = [q for q in env.recv.all() if q["path"] == "/doomed"]
        assert len(tries) == failed + 1, ("sent once more", len(tries), failed)
        assert len({q["headers"]["webhook-id"] for q in tries}) == 1 and dead.xlen("nudged:dead") == 0, tries
        for args in (["report"], ["forget", customers[5]]):
            p = subprocess.run([NUDGED, args[0], "-c", n.conf] + args[1:], capture_output=True, text=True, timeout=30)
            assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
        st, _ = n.admin("GET", "/v1/customers/" + customers[5])
        assert st == 404, "forgotten"
        st, body = n.admin("GET", "/v1/triggers")
        assert st == 200 and "ping" in body, (st, body)
        assert n.stop() == 0, "a clean stop"
    finally:
        cluster.stop()


def test_cluster_consumer_goes_on_when_a_master_dies(env):
    """kill -9 the master of shard 7's slot while orders keep coming for
    customers of every shard: its replica takes over, nudged reads the map
    again, and every order the collector accepted fires its webhook (a
    repeat only ever with the same webhook-id)."""
    cluster = RedisCluster(env.dir)
    try:
        n, port = consumer(env, cluster, {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})})
        people = [customers_of(k)[0] for k in range(SHARDS)]
        accepted, i = set(), 0

        def send_round():
            nonlocal i
            i += 1
            batch = [order(c, i, 10) for c in people]
            st, _, _ = post(port, "/v1/batch", {"batch": batch})
            if st == 200:
                accepted.update(m["messageId"] for m in batch)
            return st

        for _ in range(5):
            assert send_round() == 200
        old = cluster.master_of(stream(7))
        replica = int(cluster.node(old).info("replication")["slave0"]["port"])
        wait_for(lambda: cluster.node(replica).info("replication")["master_link_status"] == "up", 15,
                 "the replica in sync (a replica that never was takes no failover)")
        cluster.kill(old)
        statuses, end = [], time.time() + 30
        while time.time() < end:
            statuses.append(send_round())
            if statuses[-3:] == [200, 200, 200] and 503 in statuses:
                break
            time.sleep(0.1)
        assert 503 in statuses and statuses[-3:] == [200, 200, 200], statuses

        def delivered():
            return {json.loads(q["body"])["mid"] for q in env.recv.all()} & accepted

        wait_for(lambda: len(delivered()) == len(accepted), 60, "a webhook for every accepted order")
        by_id = {}
        for q in env.recv.all():
            by_id.setdefault(json.loads(q["body"])["mid"], set()).add(q["headers"]["webhook-id"])
        assert all(len(ids) == 1 for ids in by_id.values()), "a repeat only with the same webhook-id"
        print("  failover under load: %d orders accepted, all delivered; %d repeats" %
              (len(accepted), env.recv.count() - len(by_id)), flush=True)
        assert n.stop() == 0, "a clean stop"
    finally:
        cluster.stop()


def test_cluster_two_processes_one_killed_is_taken_over(env):
    """Two nudged processes on the Cluster share the 16 shards, 8 each (a
    lease in each shard's slot, renewed a call a shard); kill -9 one under
    load: the other takes its shards within a lease, and every event fires
    its webhook, a repeat only ever with the same webhook-id."""
    cluster = RedisCluster(env.dir)
    procs = []
    try:
        trig = {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})}
        for _ in range(2):
            n = env.nudged(trig, conf="[redis]\ncluster_nodes = %s\nlease = 2s\n" % cluster.seeds(1))
            n.start()
            wait_for(lambda: n.log_has("nudged ready"), 20, "a nudged on the cluster")
            procs.append(n)
        names = ["%s-%d" % (socket.gethostname(), n.proc.pid) for n in procs]

        def owners():
            held = {}
            for k in range(SHARDS):
                key = "nudged:lease:{%d}" % k
                who = cluster.node(cluster.master_of(key)).get(key)
                held[who] = held.get(who, 0) + 1
            return held

        wait_for(lambda: owners() == {names[0]: SHARDS // 2, names[1]: SHARDS // 2}, 15, "8 shards each")
        masters = {}

        def node(key):
            if key not in masters:
                masters[key] = cluster.node(cluster.master_of(key))
            return masters[key]

        load = Load(None, node=node)
        wait_for(lambda: env.recv.count() >= 500, 30, "work in flight")
        procs[0].stop(signal.SIGKILL)
        t0 = time.time()
        wait_for(lambda: owners() == {names[1]: SHARDS}, 15, "the survivor holds every shard")
        took = time.time() - t0
        time.sleep(1)
        total = load.stop()
        wanted = {"ev-%d" % i for i in range(total)}
        wait_for(lambda: {json.loads(q["body"])["mid"] for q in env.recv.all()} >= wanted, 60, "every webhook")
        by_mid = {}
        for q in env.recv.all():
            by_mid.setdefault(json.loads(q["body"])["mid"], set()).add(q["headers"]["webhook-id"])
        assert all(len(ids) == 1 for ids in by_mid.values()), "fired twice with different webhook-ids"
        print("  cluster: the killed process's shards taken over in %.1fs (lease 2s); %d events, %d same-id repeats"
              % (took, total, env.recv.count() - len(by_mid)), flush=True)
        assert procs[1].stop() == 0, "a clean stop"
    finally:
        cluster.stop()


TESTS = [test_cluster_collector_writes_each_message_to_its_shards_master, test_cluster_collector_follows_ask_and_moved,
         test_cluster_collector_goes_on_when_a_master_dies, test_cluster_nodes_naming_a_redis_that_is_no_cluster,
         test_cluster_nodes_must_be_addresses, test_cluster_consumer_runs_the_whole_path,
         test_cluster_consumer_goes_on_when_a_master_dies, test_cluster_two_processes_one_killed_is_taken_over]
