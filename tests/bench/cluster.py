"""make bench-cluster: the collector on a Redis Cluster of three masters
against the same collector on one Redis, in the same run (SPEC 8, issue 19).

One run: a redis-server and a Cluster of three masters without replicas
(redis-cli --cluster create), fresh, on free loopback ports; a
collector-only nudged on each in turn, driven by wrk (64 keep-alive
connections, BENCH_SECONDS of /v1/batch requests of 100 messages each, as
tests/bench/collector.py sends, for 10,000 customers in turn). Printed:
messages a second, Redis's CPU a message (INFO's used_cpu_user +
used_cpu_sys, every server), and each master's share of the XADDs and of
the Cluster's CPU. The work follows the shards, a slot each: redis-cli's
even split of the slots gives the masters 6, 6 and 4 of the 16 shards, so
the bench places the shards' slots 6, 5 and 5 when it makes the Cluster,
as an operator would (docs/operations.md, Redis Cluster): the best 16
shards allow on 3 masters.

Then the consumer, on the same two: BENCH_EVENTS events (the collector's
messages, 10,000 customers) written into their shards' streams, and a
nudged (no collector) with one webhook trigger on them, delivering to the
bench's C receiver, drains them. Printed: events a second from its start
to the last ack, Redis's CPU an event (every server), and each master's
share of the script calls (the commits, the due moves, the folds) and of
the CPU. Then, nudged still running, BENCH_RATE events a second (5,000)
for BENCH_STEADY_SECONDS (5), each written at its time: the p50 and p99
from an event's stream entry time to its webhook at the receiver.
Environment: BENCH_RUNS (default 1), BENCH_SECONDS (default 10),
BENCH_EVENTS (default 50,000).
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import RedisCluster, fnv1a32  # noqa: E402
from collector import AUTH, KEY, message, quietly, stop  # noqa: E402
from bench import free_port, wait_for  # noqa: E402

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

NUDGED = os.environ["NUDGED_BIN"]
RUNS = int(os.environ.get("BENCH_RUNS", 1))
SECONDS = int(os.environ.get("BENCH_SECONDS", 10))
EVENTS = int(os.environ.get("BENCH_EVENTS", 50000))
RATE = int(os.environ.get("BENCH_RATE", 5000))
STEADY_SECONDS = int(os.environ.get("BENCH_STEADY_SECONDS", 5))
BENCH_DIR = os.environ["BENCH_DIR"]
SHARDS = 16


def slot_of(tag):
    """The Cluster slot of keys tagged {TAG}: CRC16/XMODEM mod 16384."""
    crc = 0
    for b in tag.encode():
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xffff if crc & 0x8000 else (crc << 1) & 0xffff
    return crc % 16384


def cpu(r):
    i = r.info("cpu")
    return i["used_cpu_user"] + i["used_cpu_sys"]


def xadds(r):
    return r.info("commandstats").get("cmdstat_xadd", {}).get("calls", 0)


def collector(d, name, redis_conf):
    ingest = free_port()
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        f.write("[redis]\n%s\n[triggers]\ndir = %s/t\n[http]\ningest_listen = 127.0.0.1:%d\nadmin_listen =\n"
                "write_keys_file = %s/keys\nmax_backlog = 1000000000\ncollector_only = yes\n[log]\nlevel = warn\n"
                % (redis_conf, d, ingest, d))
    n = subprocess.Popen([NUDGED, "-c", conf], stderr=open(os.path.join(d, name + ".log"), "a"))
    wait_for(quietly(lambda: socket.create_connection(("127.0.0.1", ingest)).close() or True), 20, "the collector")
    return n, ingest


def wrk_many(port, prefix, n, conns=64):
    """wrk posting the N bodies PREFIX.0 ... in turn: (requests a second,
    answers that were not 2xx)."""
    lua = prefix + ".many.lua"
    with open(lua, "w") as f:
        f.write('local bodies, i = {}, 0\nfor b = 0, %d do\n'
                '  local f = io.open("%s." .. b, "rb"); bodies[#bodies + 1] = f:read("*a"); f:close()\nend\n'
                'wrk.method = "POST"\nwrk.headers["Authorization"] = "%s"\n'
                'wrk.headers["Content-Type"] = "text/plain"\n'
                'request = function()\n  i = i %% #bodies + 1\n  return wrk.format(nil, nil, nil, bodies[i])\nend\n'
                'done = function(summary, latency, requests)\n'
                '  io.write(string.format("non2xx %%d\\n", summary.errors.status))\nend\n' % (n - 1, prefix, AUTH))
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % SECONDS, "-s", lua,
                          "http://127.0.0.1:%d/v1/batch" % port], capture_output=True, text=True, timeout=SECONDS + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    return rps, int(re.search(r"non2xx (\d+)", out.stdout).group(1))


def probe(ingest, batch):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", ingest, timeout=5)
    try:
        c.request("POST", "/v1/batch", body=open(batch, "rb").read(), headers={"Authorization": AUTH})
        return c.getresponse().status
    finally:
        c.close()


def measure(d, name, redis_conf, servers, batch):
    """wrk against a collector on SERVERS (port: client): messages a
    second, and each server's XADDs and CPU seconds in the run."""
    n, ingest = collector(d, name, redis_conf)
    try:
        wait_for(quietly(lambda: probe(ingest, batch) == 200), 20, "the collector to take messages")
        before = {p: (cpu(r), xadds(r)) for p, r in servers.items()}
        rps, bad = wrk_many(ingest, batch, 100)
        after = {p: (cpu(r), xadds(r)) for p, r in servers.items()}
    finally:
        stop(n)
    if bad:
        raise SystemExit("bench-cluster: %d requests were not answered 200 (%s)" % (bad, name))
    per = {p: (after[p][0] - before[p][0], after[p][1] - before[p][1]) for p in servers}
    return rps * 100, per


def evalshas(r):
    return r.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


def write_events(home):
    """BENCH_EVENTS messages into their shards' streams, each on the server
    HOME(k) of shard k's stream, pipelined."""
    pipes = {}
    for i in range(EVENTS):
        m = message(i % 10000)
        m["messageId"] = "bench-%d" % i
        k = fnv1a32(m["userId"]) % SHARDS
        r = home(k)
        p = pipes.setdefault(id(r), r.pipeline(transaction=False))
        p.xadd("nudged:events:{%d}" % k, {"message": json.dumps(m)})
        if len(p) >= 2000:
            p.execute()
    for p in pipes.values():
        p.execute()


def drained(home, total=None):
    """The group has read TOTAL events (BENCH_EVENTS) of the shards' streams
    and acked them."""
    read = 0
    for k in range(SHARDS):
        groups = home(k).xinfo_groups("nudged:events:{%d}" % k)
        g = [x for x in groups if x["name"] in (b"nudged", "nudged")]
        if not g or g[0]["pending"]:
            return False
        read += g[0]["entries-read"] or 0
    return read >= (total or EVENTS)


def steady(home):
    """RATE events a second for STEADY_SECONDS, without messageId (each
    takes its stream entry's id, whose time the receiver measures from),
    each written at its time, a pipeline a master a millisecond tick.
    Returns how many."""
    n = RATE * STEADY_SECONDS
    start, sent = time.time(), 0
    while sent < n:
        pause = start + sent / RATE - time.time()
        if pause > 0:
            time.sleep(pause)
        end = min(n, int((time.time() - start) * RATE) + 1)
        pipes = {}
        for i in range(sent, end):
            m = message(i % 10000)
            del m["messageId"]
            k = fnv1a32(m["userId"]) % SHARDS
            r = home(k)
            pipes.setdefault(id(r), r.pipeline(transaction=False)).xadd("nudged:events:{%d}" % k,
                                                                      {"message": json.dumps(m)})
        for p in pipes.values():
            p.execute()
        sent = end
    return n


def percentile(xs, q):
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else float("nan")


def drain(d, name, redis_conf, servers, home):
    """The consumer's drain of BENCH_EVENTS on SERVERS: events a second,
    each server's CPU seconds and script calls during it, then the p50 and
    p99 from event to webhook (ms) under a steady RATE a second."""
    for r in servers.values():
        r.flushall()
    write_events(home)
    hook_port, samples = free_port(), os.path.join(d, name + "-recv.txt")
    recv = subprocess.Popen([os.path.join(BENCH_DIR, "receiver"), str(hook_port), samples])
    tdir = os.path.join(d, "t-" + name)
    os.makedirs(tdir, exist_ok=True)
    with open(os.path.join(tdir, "t.json"), "w") as f:
        json.dump({"id": "added", "on": "Product Added",
                   "actions": [{"webhook": {"url": "http://127.0.0.1:%d/hook" % hook_port,
                                            "body": {"id": "{{event.messageId}}"}}}]}, f)
    conf = os.path.join(d, name + "-consumer.conf")
    with open(conf, "w") as f:
        f.write("[redis]\n%s\nbatch = 200\n[triggers]\ndir = %s\n[http]\nadmin_listen =\n"
                "[delivery]\nmax_inflight = 256\nper_host = 64\n[log]\nlevel = warn\n" % (redis_conf, tdir))
    before = {p: (cpu(r), evalshas(r)) for p, r in servers.items()}
    t0 = time.time()
    n = subprocess.Popen([NUDGED, "-c", conf], stderr=open(os.path.join(d, name + "-consumer.log"), "a"))
    try:
        wait_for(quietly(lambda: drained(home)), 600, "the drain (%s)" % name)
        seconds = time.time() - t0
        after = {p: (cpu(r), evalshas(r)) for p, r in servers.items()}
        more = steady(home)
        wait_for(quietly(lambda: drained(home, EVENTS + more)), 120, "the steady events (%s)" % name)
        time.sleep(1)  # their webhooks
    finally:
        stop(n)
        recv.send_signal(signal.SIGTERM)
        recv.wait(timeout=10)
    with open(samples) as f:
        f.readline()
        lat = sorted(int(line) for line in f)
    with open(os.path.join(d, name + "-consumer.log")) as f:
        warnings = [line for line in f if "level=warn" in line or "level=error" in line]
    if warnings:
        print("%s: %d warnings in nudged's log, the first: %s" % (name, len(warnings), warnings[0].strip()))
    return (EVENTS / seconds, {p: (after[p][0] - before[p][0], after[p][1] - before[p][1]) for p in servers},
            (percentile(lat, 0.5), percentile(lat, 0.99), len(lat)))


def one_run(run):
    d = tempfile.mkdtemp(prefix="nudged-bench-cluster-")
    port = free_port()
    single = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = None
    try:
        r = redis.Redis(host="127.0.0.1", port=port)
        wait_for(quietly(r.ping), 10, "redis")
        cluster = RedisCluster(d, masters=3, replicas=0, place={slot_of("%d" % k): k % 3 for k in range(16)})
        batch = os.path.join(d, "batch.json")
        with open(batch, "w") as f:
            json.dump({"batch": [message(i) for i in range(100)]}, f)
        for b in range(100):
            with open("%s.%d" % (batch, b), "w") as f:
                json.dump({"batch": [message(b * 100 + i) for i in range(100)]}, f)
        os.makedirs(os.path.join(d, "t"))
        with open(os.path.join(d, "keys"), "w") as f:
            f.write(KEY + "\n")
        one_msgs, one = measure(d, "single", "url = redis://127.0.0.1:%d/0" % port, {port: r}, batch)
        masters = {p: redis.Redis(host="127.0.0.1", port=p) for p in cluster.masters()}
        cl_msgs, cl = measure(d, "cluster", "cluster_nodes = %s" % cluster.seeds(1), masters, batch)
        total_cpu = sum(c for c, _ in cl.values())
        total_x = sum(x for _, x in cl.values())
        homes = {k: masters[cluster.master_of_slot(slot_of("%d" % k))] for k in range(SHARDS)}
        one_ev, one_c, one_lat = drain(d, "single", "url = redis://127.0.0.1:%d/0" % port, {port: r}, lambda k: r)
        cl_ev, cl_c, cl_lat = drain(d, "cluster", "cluster_nodes = %s" % cluster.seeds(1), masters,
                                    lambda k: homes[k])
        c_cpu = sum(c for c, _ in cl_c.values())
        c_calls = sum(x for _, x in cl_c.values())
        return {"run": run, "single_msgs_s": round(one_msgs),
                "single_cpu_us_msg": round(one[port][0] * 1e6 / max(one[port][1], 1), 2),
                "cluster_msgs_s": round(cl_msgs), "cluster_cpu_us_msg": round(total_cpu * 1e6 / max(total_x, 1), 2),
                "xadd_share": [round(x / max(total_x, 1), 3) for _, x in cl.values()],
                "cpu_share": [round(c / max(total_cpu, 1e-9), 3) for c, _ in cl.values()],
                "single_events_s": round(one_ev), "single_cpu_us_event": round(one_c[port][0] * 1e6 / EVENTS, 1),
                "cluster_events_s": round(cl_ev), "cluster_cpu_us_event": round(c_cpu * 1e6 / EVENTS, 1),
                "script_share": [round(x / max(c_calls, 1), 3) for _, x in cl_c.values()],
                "drain_cpu_share": [round(c / max(c_cpu, 1e-9), 3) for c, _ in cl_c.values()],
                "single_latency_ms": one_lat, "cluster_latency_ms": cl_lat}
    finally:
        if cluster:
            cluster.stop()
        single.kill()
        single.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    rows = [one_run(i + 1) for i in range(RUNS)]
    print("%-4s %14s %14s %15s %15s %22s %22s" % ("run", "one Redis msg/s", "CPU us/msg", "Cluster msg/s",
                                                  "CPU us/msg", "masters' XADD shares", "masters' CPU shares"))
    for x in rows:
        print("%-4d %14d %14.2f %15d %15.2f %22s %22s" % (
            x["run"], x["single_msgs_s"], x["single_cpu_us_msg"], x["cluster_msgs_s"], x["cluster_cpu_us_msg"],
            "/".join("%.2f" % s for s in x["xadd_share"]), "/".join("%.2f" % s for s in x["cpu_share"])))
    print("\nthe consumer: %d events drained, one webhook each" % EVENTS)
    print("%-4s %16s %14s %16s %14s %22s %22s" % ("run", "one Redis ev/s", "CPU us/event", "Cluster ev/s",
                                                  "CPU us/event", "masters' script shares", "masters' CPU shares"))
    for x in rows:
        print("%-4d %16d %14.1f %16d %14.1f %22s %22s" % (
            x["run"], x["single_events_s"], x["single_cpu_us_event"], x["cluster_events_s"],
            x["cluster_cpu_us_event"], "/".join("%.2f" % s for s in x["script_share"]),
            "/".join("%.2f" % s for s in x["drain_cpu_share"])))
    print("\nevent to webhook at %d events a second for %d s (ms): p50 / p99 (samples)" % (RATE, STEADY_SECONDS))
    for x in rows:
        print("%-4d one Redis %d / %d (%d)   Cluster %d / %d (%d)" % ((x["run"],) + tuple(x["single_latency_ms"]) +
                                                                   tuple(x["cluster_latency_ms"])))
    for x in rows:
        print(json.dumps(x))
    return 0


if __name__ == "__main__":
    sys.exit(main())
