"""make bench: nudged's throughput, latency and memory against a bare consumer.

One run: a fresh redis-server (no persistence) on a free loopback port; N
Segment-shaped messages (default 200,000: five event names over 10,000
customers) written before anything consumes them; the baseline (XREADGROUP,
jansson parse, XACK; nothing else) drains them through its own group; then
nudged, with the 100 triggers written below, drains them through its group
and delivers the webhooks to a fast C receiver. Then events are written at a
steady 5,000/s while nudged runs, for event-to-webhook latency: for 10 s as
independent arrivals (the target's figure), then for 5 s in bursts of 25
every 5 ms.
Prints a table and one JSON line. Environment: BENCH_EVENTS, BENCH_RUNS,
BENCH_WRAP (a command prefix for nudged, such as a profiler), BENCH_CONF
(nudged.conf lines appended, \\n between them: later keys win),
BENCH_STEADY_SECONDS (0 skips the latency part, as under valgrind),
BENCH_REDIS_WRAP (a command prefix for redis-server), BENCH_SILENCE=1 (one
silence trigger more), BENCH_SIGNED=1 (every
webhook signed with a secret), BENCH_MEASURE=1 (every trigger with a goal
and a 10 % holdout), BENCH_TIER=1 (one trigger more, whose condition is a
value tier).
"""
import json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import ckey, shard_stream  # noqa: E402

# A SIGTERM (a timeout, a cancelled CI job) unwinds like an exception, so
# every `finally` still stops the processes it started, by pid.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

NUDGED = os.environ["NUDGED_BIN"]
BENCH_DIR = os.environ["BENCH_DIR"]
N = int(os.environ.get("BENCH_EVENTS", 200000))
RUNS = int(os.environ.get("BENCH_RUNS", 1))
CUSTOMERS = 10000
NAMES = ["Page Viewed", "Link Clicked", "Form Submitted", "Product Added", "Order Completed"]
RATE, STEADY_SECONDS, BURST = 5000, int(os.environ.get("BENCH_STEADY_SECONDS", 10)), 25
# Diagnostic: BENCH_PRICE_SHIFT=100 makes every `where` fail (no firings),
# to measure the events pipeline alone.
PRICE_SHIFT = int(os.environ.get("BENCH_PRICE_SHIFT", 0))
# BENCH_SIGNED=1 gives every webhook a secret (Standard Webhooks signature).
SIGNED = os.environ.get("BENCH_SIGNED") == "1"
# BENCH_SILENCE=1 adds one silence trigger (30 days: it never comes due in
# a run), to measure what arming it costs every event.
SILENCE = os.environ.get("BENCH_SILENCE") == "1"
# BENCH_MEASURE=1 gives every trigger a goal (an order within a day) and a
# 10 % holdout: what counting firings and checking conversions costs.
# (BENCH_MEASURE=goal or =holdout: only that one, to see what each costs.)
MEASURE = os.environ.get("BENCH_MEASURE", "")
HOLDOUT = MEASURE in ("1", "holdout")
# BENCH_TIER=1 adds one trigger whose `if` reads customer.value_tier and
# that never fires, on the events whose profile the other triggers read
# anyway: what ranking the customers costs.
TIER = os.environ.get("BENCH_TIER") == "1"
if MEASURE:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    from holdout import held_out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout, what, every=0.01):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(every)
    raise SystemExit("bench: timed out waiting for " + what)


def triggers(port):
    """100 triggers: each on one name, a where on price, an if on a count."""
    out = []
    for i in range(100):
        name = NAMES[i % 5]
        out.append({"id": "bench-%02d" % i, "on": name,
                    "where": {"properties.price": {"gte": 96 + (i // 5) % 4 + PRICE_SHIFT}},
                    "if": {"customer.events.%s.count" % name: {"gte": 1 + (i // 20) % 5}},
                    "actions": [{"webhook": {"url": "http://127.0.0.1:%d/hook" % port,
                                             "body": {"id": "{{event.messageId}}", "t": "{{trigger.id}}"}}}]})
        if SIGNED:
            out[-1]["actions"][0]["webhook"]["secret"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        if MEASURE:
            if MEASURE != "holdout":
                out[-1]["goal"] = {"event": "Order Completed", "within": "1d"}
            if HOLDOUT:
                out[-1]["holdout"] = "10%"
    if TIER:
        out.append({"id": "bench-tier", "on": "Page Viewed", "where": {"properties.price": {"gte": 96 + PRICE_SHIFT}},
                    "if": {"customer.value_tier": "none"},
                    "actions": [{"webhook": {"url": "http://127.0.0.1:%d/hook" % port}}]})
    if SILENCE:
        out.append({"id": "bench-silence", "on": {"silence": "30d"},
                    "actions": [{"webhook": {"url": "http://127.0.0.1:%d/hook" % port}}]})
    return out


class Model:
    """What the triggers imply: counts per customer and name, in stream order."""

    def __init__(self, trigs):
        self.counts = {}
        self.by_name = {}
        for t in (t for t in trigs if isinstance(t["on"], str) and t["id"] != "bench-tier"):  # a silence never comes due
            self.by_name.setdefault(t["on"], []).append(
                (t["id"], t["where"]["properties.price"]["gte"], list(t["if"].values())[0]["gte"]))
        self.fired = 0

    def apply(self, cust, name, price):
        k = (cust, name)
        self.counts[k] = self.counts.get(k, 0) + 1
        for tid, p, c in self.by_name[name]:
            if price >= p and self.counts[k] >= c and not (HOLDOUT and held_out(tid, cust, 10)):
                self.fired += 1


def messages(rng, n, model, with_id):
    for i in range(n):
        cust = "c%05d" % rng.randrange(CUSTOMERS)
        name = NAMES[rng.randrange(5)]
        price = rng.randrange(100)
        model.apply(cust, name, price)
        m = {"type": "track", "userId": cust, "event": name,
             "properties": {"path": "/p/%d" % rng.randrange(50), "price": price}}
        if with_id:
            m["messageId"] = "d-%d" % i
        yield json.dumps(m, separators=(",", ":"))


SHARDS = 16  # [redis] shards, by default


SHARD_STREAMS = ["nudged:events:{%d}" % k for k in range(SHARDS)]
OUTBOXES = ["nudged:actions:{%d}" % k for k in range(SHARDS)]  # the deliveries, a stream a shard


def group_info(r, stream, group):
    for g in r.xinfo_groups(stream):
        if g["name"] == group:
            return g
    return None


def drained_shards(r, group, total, streams=SHARD_STREAMS):
    """GROUP has read TOTAL entries of the shards' STREAMS (their events
    streams, or OUTBOXES) and acked them."""
    infos = [group_info(r, s, group) for s in streams]
    return (None not in infos and sum(g["entries-read"] or 0 for g in infos) >= total and
            all(g["pending"] == 0 for g in infos))


def percentile(xs, p):
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


def one_run(run):
    tmp = tempfile.mkdtemp(prefix="nudged-bench-")
    procs = []
    try:
        rport, hport = free_port(), free_port()
        procs.append(subprocess.Popen(os.environ.get("BENCH_REDIS_WRAP", "").split() + ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL))
        r = redis.Redis(port=rport, decode_responses=True)
        wait_for(lambda: _ping(r), 60, "redis")
        recv_out = os.path.join(tmp, "recv.txt")
        recv = subprocess.Popen([os.path.join(BENCH_DIR, "receiver"), str(hport), recv_out])
        procs.append(recv)
        trigs = triggers(hport)
        tdir = os.path.join(tmp, "triggers.d")
        os.makedirs(tdir)
        with open(os.path.join(tdir, "bench.json"), "w") as f:
            json.dump(trigs, f)
        model = Model(trigs)
        rng = random.Random(42 + run)

        pipe = r.pipeline(transaction=False)
        for i, m in enumerate(messages(rng, N, model, True)):
            pipe.xadd(shard_stream(json.loads(m)["userId"]), {"message": m})
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        fired_drain = model.fired

        out = subprocess.run([os.path.join(BENCH_DIR, "baseline"), str(rport), "baseline", "200"] + SHARD_STREAMS,
                             capture_output=True, text=True, check=True).stdout.split()
        base_rate = int(out[1]) / float(out[3])

        conf = os.path.join(tmp, "nudged.conf")
        with open(conf, "w") as f:
            f.write("[redis]\nurl = redis://127.0.0.1:%d/0\nbatch = 200\n[triggers]\ndir = %s\n"
                    "[http]\nadmin_listen =\n[delivery]\nmax_inflight = 256\nper_host = 64\n[log]\nlevel = warn\n" % (rport, tdir))
            f.write(os.environ.get("BENCH_CONF", "").replace("\\n", "\n"))
        redis_cpu0, recv_cpu0, machine0 = cpu_seconds(procs[0].pid), cpu_seconds(recv.pid), machine_cpu()
        redis_sys0, recv_sys0 = cpu_seconds(procs[0].pid, True), cpu_seconds(recv.pid, True)
        r.config_resetstat()
        t0 = time.time()
        wrap = os.environ.get("BENCH_WRAP", "").split()  # e.g. "perf record -g -o /tmp/nudged.perf --"
        nd = subprocess.Popen(wrap + [NUDGED, "-c", conf], stderr=open(os.path.join(tmp, "nudged.log"), "w"))
        procs.append(nd)
        # Every 50 ms: each look is an XINFO GROUPS a shard, which Redis
        # would otherwise spend on the bench instead of nudged.
        wait_for(lambda: drained_shards(r, "nudged", N), 600, "nudged to drain the events", every=0.05)
        t_drain = time.time() - t0
        cpu_nudged, cpu_redis = cpu_seconds(nd.pid), cpu_seconds(procs[0].pid) - redis_cpu0
        cpu_recv = cpu_seconds(recv.pid) - recv_cpu0
        sys_all = (cpu_seconds(nd.pid, True) + cpu_seconds(procs[0].pid, True) - redis_sys0
                   + cpu_seconds(recv.pid, True) - recv_sys0)
        busy = [b - a for a, b in zip(machine0, machine_cpu())]
        redis_top = top_commands(r, N)
        wait_for(lambda: drained_shards(r, "nudged", fired_drain, OUTBOXES), 600, "the webhooks")
        t_all = time.time() - t0
        rate = N / t_drain

        # Steady load: RATE events/s while nudged runs, first as independent
        # arrivals (the target's figure), then in bursts (see arrivals()).
        late, phases, total_events = {}, [], N
        for kind, seconds in (("poisson", STEADY_SECONDS), ("burst", STEADY_SECONDS // 2)):
            steady = list(messages(rng, RATE * seconds, model, False))
            late[kind] = write_at(r, steady, arrivals(kind, len(steady), rng))
            total_events += len(steady)
            wait_for(lambda: drained_shards(r, "nudged", total_events), 120, "the steady events", every=0.05)
            wait_for(lambda: drained_shards(r, "nudged", model.fired, OUTBOXES), 120, "the steady webhooks")
            phases.append(model.fired - fired_drain)
            if kind == "poisson":  # memory at 25 events a customer, as in the figures before
                custs = ["c%05d" % i for i in range(0, CUSTOMERS, 20)]
                pipe = r.pipeline(transaction=False)
                for c in custs:
                    pipe.memory_usage(ckey(c, "p"), samples=0)
                    pipe.memory_usage(ckey(c, "d"), samples=0)
                mem = pipe.execute()
                per_customer = sum(m or 0 for m in mem) / len(custs)
                events_per_customer = total_events / CUSTOMERS

        with open("/proc/%d/status" % nd.pid) as f:
            rss_kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))

        nd.send_signal(signal.SIGTERM)
        nd_rc = nd.wait(timeout=30)
        recv.send_signal(signal.SIGTERM)
        recv.wait(timeout=10)
        with open(recv_out) as f:
            count = int(f.readline().split()[1])
            samples = [int(l) for l in f]  # in order of arrival: the phases' one after the other
        lat, lat_burst = sorted(samples[:phases[0]]), sorted(samples[phases[0]:])
        return {"run": run, "events": N, "baseline_events_per_s": round(base_rate),
                "nudged_events_per_s": round(rate), "ratio": round(rate / base_rate, 3),
                "drain_s": round(t_drain, 2), "drain_cpu_s_nudged": round(cpu_nudged, 2),
                "drain_cpu_s_redis": round(cpu_redis, 2), "drain_cpu_s_receiver": round(cpu_recv, 2),
                "drain_cpu_kernel_share": round(sys_all / (cpu_nudged + cpu_redis + cpu_recv), 2),
                "drain_machine_busy": round(busy[0] / (busy[0] + busy[1]), 2) if busy[0] + busy[1] else None, "drain_and_deliver_s": round(t_all, 2),
                "steady_rate": RATE, "latency_samples": len(lat),
                "latency_ms_p50": percentile(lat, 0.50), "latency_ms_p99": percentile(lat, 0.99),
                "latency_ms_max": lat[-1] if lat else None,
                "steady_load_max_late_ms": round(late["poisson"] * 1000, 1),
                "burst_latency_samples": len(lat_burst), "burst_latency_ms_p50": percentile(lat_burst, 0.50),
                "burst_latency_ms_p99": percentile(lat_burst, 0.99),
                "burst_latency_ms_max": lat_burst[-1] if lat_burst else None,
                "burst_load_max_late_ms": round(late["burst"] * 1000, 1),
                "redis_bytes_per_customer": round(per_customer), "events_per_customer": events_per_customer,
                "nudged_peak_rss_mib": round(rss_kib / 1024, 1),
                "firings_expected": model.fired, "webhooks_received": count,
                "firings_ok": count == model.fired, "nudged_exit": nd_rc, "redis_us_per_event_by_command": redis_top}
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def arrivals(kind, n, rng):
    """When each of N events of the steady load is due, in seconds from the
    start, at RATE a second: "poisson", independent arrivals (exponential
    gaps), as from many visitors, the target's figure; "burst", BURST at
    once every BURST / RATE s, a harsher load the bench reports too."""
    if kind == "burst":
        return [(i // BURST) * BURST / RATE for i in range(n)]
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(RATE)
        out.append(t)
    return out


def write_at(r, msgs, due):
    """Writes MSGS to the events stream, each at its time in DUE (seconds
    from now), those due within one tick in one pipeline, at most one tick
    a millisecond (a Python writer cannot do better without running late).
    Returns how late the writer ran at worst (s): the latencies are
    measured from each entry's time in the stream, so lateness does not
    add to them, but it bunches events. With ticks a millisecond apart, an
    event may be written up to 1 ms after its time by design."""
    start, sent, late, tick = time.time(), 0, 0.0, 0.0
    while sent < len(msgs):
        wake = max(start + due[sent], tick + 0.001)
        pause = wake - time.time()  # once: time moves between two reads
        if pause > 0:
            time.sleep(pause)
        tick = time.time()
        late = max(late, tick - (start + due[sent]))
        end = sent
        while end < len(msgs) and start + due[end] <= tick:
            end += 1
        pipe = r.pipeline(transaction=False)
        for m in msgs[sent:end]:
            pipe.xadd(shard_stream(json.loads(m)["userId"]), {"message": m})
        pipe.execute()
        sent = end
    return late


def top_commands(r, events):
    """Redis CPU per drained event by command (INFO commandstats), the top 6:
    where Redis spends its time."""
    stats = r.info("commandstats")
    top = sorted(((k[len("cmdstat_"):], v["usec"]) for k, v in stats.items()), key=lambda kv: -kv[1])[:6]
    return {name: round(usec / events, 2) for name, usec in top}


def cpu_seconds(pid, kernel_only=False):
    """User + system CPU time of PID so far, or the system (kernel) part alone:
    a high kernel share means system calls, not instructions, bound a run."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[12]) if kernel_only else int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """(busy, idle) clock ticks of all cores so far (/proc/stat)."""
    with open("/proc/stat") as f:
        t = [int(x) for x in f.readline().split()[1:]]
    idle = t[3] + t[4]  # idle, iowait
    return sum(t) - idle, idle


def _ping(r):
    try:
        return r.ping()
    except redis.exceptions.ConnectionError:
        return False


def main():
    results = [one_run(i) for i in range(RUNS)]
    rows = [("drain throughput, baseline (events/s)", "baseline_events_per_s"),
            ("drain throughput, nudged (events/s)", "nudged_events_per_s"),
            ("ratio nudged/baseline (target >= 0.6)", "ratio"),
            ("drain time (s)", "drain_s"),
            ("  CPU of nudged during the drain (s)", "drain_cpu_s_nudged"),
            ("  CPU of redis during the drain (s)", "drain_cpu_s_redis"),
            ("  CPU of the receiver during the drain (s)", "drain_cpu_s_receiver"),
            ("  of the three's CPU, share in the kernel", "drain_cpu_kernel_share"),
            ("  machine busy during the drain (of all cores)", "drain_machine_busy"),
            ("drain + deliver all webhooks (s)", "drain_and_deliver_s"),
            ("latency p50 at 5,000 ev/s (ms)", "latency_ms_p50"),
            ("latency p99 at 5,000 ev/s (ms, target <= 5)", "latency_ms_p99"),
            ("latency max (ms)", "latency_ms_max"),
            ("  the load's worst lateness against its schedule (ms)", "steady_load_max_late_ms"),
            ("latency p50, 25 events every 5 ms (ms)", "burst_latency_ms_p50"),
            ("latency p99, 25 events every 5 ms (ms)", "burst_latency_ms_p99"),
            ("latency max, 25 events every 5 ms (ms)", "burst_latency_ms_max"),
            ("  the load's worst lateness against its schedule (ms)", "burst_load_max_late_ms"),
            ("Redis bytes per customer (target <= 1024)", "redis_bytes_per_customer"),
            ("nudged peak RSS (MiB, target <= 64)", "nudged_peak_rss_mib"),
            ("firings expected", "firings_expected"),
            ("webhooks received", "webhooks_received"),
            ("firings match the triggers", "firings_ok")]
    print("\nnudged bench: %d events, %d customers, 100 triggers, 2 cores shared\n" % (N, CUSTOMERS))
    print("%-46s" % "" + "".join("%14s" % ("run %d" % r["run"]) for r in results))
    for label, key in rows:
        print("%-46s" % label + "".join("%14s" % r[key] for r in results))
    for r in results:
        print(json.dumps(r))
    ok = all(r["firings_ok"] and r["nudged_exit"] == 0 for r in results)
    if not ok:
        print("bench: FIRINGS OR EXIT CODE WRONG: the figures above do not count")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
