"""make bench-collector: the collector's throughput and latency against the
limit measured in the same run.

One run: a fresh redis-server (no persistence) on a free loopback port.
1. The limit: the same message XADDed straight into Redis, 100 pipelined a
   round trip (tests/bench/xadd_limit.c), 200,000 messages.
2. nudged twice: with http.collector_only (the collector alone, the figures
   the goals are about), then as a whole daemon (its consumer, with no
   triggers, reads, applies and acks every event in the same process and
   the same Redis, while the collector takes more). Each mode:
3. Batched: wrk, 64 keep-alive connections, 10 s of /v1/batch requests of
   100 messages each: messages a second, and the ratio to the limit.
4. Single: wrk, 64 connections, 10 s of one-message /v1/t requests.
5. Latency: an open-loop load (tests/bench/loadgen.c) of 5,000 one-message
   requests a second over 16 connections for 10 s: p50 and p99 from each
   request's scheduled time to its answer as the load generator sees it
   (it shares the two cores), and nudged's own p99 from a request read to
   its answer written (Redis's round trip included), as the upper bound of
   the bucket of nudged_collector_request_seconds that holds it.
Environment: BENCH_RUNS (default 1), BENCH_SECONDS (default 10).
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time

import redis

from bench import free_port, wait_for

signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

NUDGED = os.environ["NUDGED_BIN"]
BENCH_DIR = os.environ["BENCH_DIR"]
RUNS = int(os.environ.get("BENCH_RUNS", 1))
SECONDS = int(os.environ.get("BENCH_SECONDS", 10))
KEY = "wk_bench"
AUTH = "Basic d2tfYmVuY2g6"  # base64("wk_bench:")


def quietly(fn):
    """FN as a wait condition: an exception (a port not open yet) is no."""
    def cond():
        try:
            return fn()
        except Exception:
            return False
    return cond


def message(i=0):
    """A track message as analytics.js sends it (about 750 bytes)."""
    return {"type": "track", "event": "Product Added", "userId": "customer-%d" % i,
            "messageId": "ajs-next-1796245980262-%08d-4c9b-8e21-0d6f4a9b7c00" % i,
            "anonymousId": "3f2d8b1c-5a7e-4c9b-8e21-0d6f4a9b7c%02d" % (i % 100),
            "properties": {"product_id": "sku-1234", "name": "Blue shoes", "price": 79.95, "quantity": 1,
                           "currency": "EUR"},
            "context": {"page": {"path": "/products/blue-shoes", "url": "https://shop.example/products/blue-shoes",
                                 "title": "Blue shoes", "referrer": "https://www.google.com/"},
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                                     "Chrome/156.0.0.0 Safari/537.36",
                        "locale": "nl-NL", "timezone": "Europe/Amsterdam",
                        "library": {"name": "analytics.js", "version": "next-1.84.3"}},
            "timestamp": "2026-12-01T10:00:00.000Z", "sentAt": "2026-12-01T10:00:00.020Z"}


def wrk(port, path, body_file, conns=64, seconds=SECONDS):
    lua = body_file + ".lua"
    with open(lua, "w") as f:
        f.write('local f = io.open("%s", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
                'wrk.headers["Authorization"] = "%s"\nwrk.headers["Content-Type"] = "text/plain"\n'
                'done = function(summary, latency, requests)\n'
                '  io.write(string.format("non2xx %%d\\n", summary.errors.status))\nend\n' % (body_file, AUTH))
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "-s", lua,
                          "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True, timeout=seconds + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))
    non2xx = int(re.search(r"non2xx (\d+)", out.stdout).group(1))
    return rps, non2xx


# Every events stream: the collector writes each message to its customer's
# shard's (SPEC 8); the inbox is read as well.
STREAMS = ["nudged:events"] + ["nudged:events:{%d}" % k for k in range(16)]


def drain(r):
    """Waits until nudged has consumed what the last phase wrote, so each
    phase meets an idle consumer."""
    def idle():
        groups = [x for s in STREAMS for x in r.xinfo_groups(s) if x["name"] == "nudged"]
        return len(groups) == len(STREAMS) and all(g["lag"] == 0 and g["pending"] == 0 for g in groups)
    wait_for(quietly(idle), 300, "the consumer to drain")


def start_nudged(d, port, ingest, admin, only):
    conf = os.path.join(d, "nudged-%s.conf" % only)
    with open(conf, "w") as f:
        f.write("[redis]\nurl = redis://127.0.0.1:%d/0\n[triggers]\ndir = %s/t\n[http]\n"
                "ingest_listen = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\nwrite_keys_file = %s/keys\n"
                "max_backlog = 1000000000\ncollector_only = %s\n[log]\nlevel = warn\n" % (port, d, ingest, admin, d, only))
    n = subprocess.Popen([NUDGED, "-c", conf], stderr=open(os.path.join(d, "nudged.log"), "a"))
    wait_for(quietly(lambda: socket.create_connection(("127.0.0.1", ingest)).close() or True), 10, "the collector")
    return n


def stop(n):
    if n and n.poll() is None:
        n.send_signal(signal.SIGTERM)
        try:
            n.wait(timeout=30)
        except subprocess.TimeoutExpired:
            n.kill()
            n.wait()


def server_buckets(admin):
    """The collector's request-time histogram from /metrics: {le: count}."""
    import urllib.request
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin, timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("nudged_collector_request_seconds_bucket{le="):
            le = line.split('"')[1]
            out[float("inf") if le == "+Inf" else float(le)] = int(line.split()[1])
    return out


def server_p99_bound(before, after):
    """The upper bound of the bucket that holds the 99th percentile of the
    requests between two snapshots (seconds): nudged's own measure, from a
    request read to its answer written, without the load generator."""
    les = sorted(after)
    total = after[les[-1]] - before.get(les[-1], 0)
    for le in les:
        if after[le] - before.get(le, 0) >= 0.99 * total:
            return le
    return float("inf")


def mode(d, r, port, only, one, batch, limit):
    ingest, admin = free_port(), free_port()
    n = start_nudged(d, port, ingest, admin, only)
    try:
        wait_for(quietly(lambda: r.exists("nudged:events")), 10, "nudged ready")
        brps, bbad = wrk(ingest, "/v1/batch", batch)
        empty(r, only)
        srps, sbad = wrk(ingest, "/v1/t", one)
        empty(r, only)
        before = server_buckets(admin)
        lat = subprocess.run([os.path.join(BENCH_DIR, "loadgen"), "127.0.0.1", str(ingest), "/v1/t", one, AUTH, "16",
                              "5000", str(SECONDS)], capture_output=True, text=True, timeout=SECONDS + 60, check=True)
        sent, ok, p50, p99, mx = (int(x) for x in lat.stdout.split())
        server_p99 = server_p99_bound(before, server_buckets(admin))
    finally:
        stop(n)
    r.delete(*STREAMS)
    return {"mode": "collector only" if only == "yes" else "whole daemon", "limit_msgs_s": round(limit),
            "batched_msgs_s": round(brps * 100), "batched_ratio": round(brps * 100 / limit, 3),
            "batched_non200": bbad, "single_req_s": round(srps), "single_non200": sbad, "latency_sent": sent,
            "latency_ok": ok, "p50_ms": round(p50 / 1000, 2), "p99_ms": round(p99 / 1000, 2),
            "max_ms": round(mx / 1000, 2), "server_p99_le_ms": server_p99 * 1000}


def empty(r, only):
    """Between phases: the consumer drained (whole daemon), then the stream
    emptied (the group kept), so no phase pays for the gigabyte the one
    before wrote (Redis growing into fresh memory, a long trim)."""
    if only == "no":
        drain(r)
    for s in STREAMS:
        r.xtrim(s, maxlen=0, approximate=False)


def one_run(run):
    d = tempfile.mkdtemp(prefix="nudged-bench-collector-")
    port = free_port()
    rs = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        wait_for(quietly(r.ping), 10, "redis")
        one = os.path.join(d, "one.json")
        with open(one, "w") as f:
            json.dump(message(), f)
        batch = os.path.join(d, "batch.json")
        with open(batch, "w") as f:
            json.dump({"batch": [message(i) for i in range(100)]}, f)
        os.makedirs(os.path.join(d, "t"))
        with open(os.path.join(d, "keys"), "w") as f:
            f.write(KEY + "\n")
        rows = []
        for only in ("yes", "no"):
            out = subprocess.run([os.path.join(BENCH_DIR, "xadd_limit"), "127.0.0.1", str(port), "nudged:limit", one,
                                  "200000", "100"], capture_output=True, text=True, timeout=120, check=True)
            r.delete("nudged:limit")
            rows.append(dict(mode(d, r, port, only, one, batch, float(out.stdout)), run=run))
        return rows
    finally:
        rs.kill()
        rs.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    rows = [row for i in range(RUNS) for row in one_run(i + 1)]
    print("%-4s %-15s %12s %14s %7s %12s %9s %9s %9s %14s" % ("run", "mode", "limit msg/s", "batched msg/s", "ratio",
                                                              "single req/s", "p50 ms", "p99 ms", "max ms",
                                                              "nudged p99 <="))
    for x in rows:
        print("%-4d %-15s %12d %14d %7.3f %12d %9.2f %9.2f %9.2f %11.2f ms" % (
            x["run"], x["mode"], x["limit_msgs_s"], x["batched_msgs_s"], x["batched_ratio"], x["single_req_s"],
            x["p50_ms"], x["p99_ms"], x["max_ms"], x["server_p99_le_ms"]))
    print("goals: batched ratio >= 0.7, single >= 25,000 req/s, p99 <= 2 ms at 5,000 req/s")
    for x in rows:
        print(json.dumps(x))
        if x["batched_non200"] or x["single_non200"] or x["latency_ok"] != x["latency_sent"]:
            print("bench-collector: some requests were not answered 200", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
