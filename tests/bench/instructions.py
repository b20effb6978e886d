"""make bench-instructions: instructions per event under callgrind, for nudged
and for Redis, figures that this machine's noise does not move.

The load and triggers are make bench's (tests/bench/bench.py), with one
customer per 20 events so that profiles grow as in the full bench. Redis
runs under callgrind; its counters are zeroed once the events are in the
stream and dumped once nudged has drained them and delivered every webhook,
so only nudged's work is counted. nudged runs under callgrind twice, with
no events and with N, and the difference is its work for N events (its
start and stop cancel out). Before nudged, the bench's baseline (XREADGROUP,
jansson, XACK) drains the same events through its own group, under
callgrind too, with Redis's counters zeroed before and dumped after it:
what the limit costs, on both sides. Prints a table and one JSON line.
Environment: BENCH_EVENTS (default 20,000); BENCH_KEEP, a directory to
keep the callgrind dumps in (for callgrind_annotate).
"""
import glob, json, os, random, signal, subprocess, sys, tempfile, time, shutil

import bench
import redis

EVENTS = int(os.environ.get("BENCH_EVENTS", 20000))


def callgrind_total(prefix):
    """The instruction total of the first dump written under PREFIX."""
    for path in sorted(glob.glob(prefix + "*")):
        with open(path) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    raise SystemExit("instructions: no callgrind output at " + prefix)


def group_ready(r):
    try:
        return bench.group_info(r, bench.SHARD_STREAMS[-1], "nudged") is not None
    except redis.exceptions.ResponseError:  # no stream yet
        return False


def dump(pid, path):
    """Has the callgrind of PID write its counters to PATH (the next numbered
    dump); returns their total."""
    subprocess.run(["callgrind_control", "-d", str(pid)], stdout=subprocess.DEVNULL, check=True)
    bench.wait_for(lambda: os.path.exists(path), 60, "redis's callgrind dump")
    time.sleep(0.5)
    return callgrind_total(path)


def baseline(redis_pid, rport, redis_dump, out):
    """Runs the baseline under callgrind over the events; returns its own
    instructions and Redis's for it (dumped to REDIS_DUMP)."""
    subprocess.run(["callgrind_control", "-z", str(redis_pid)], stdout=subprocess.DEVNULL, check=True)
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                    os.path.join(bench.BENCH_DIR, "baseline"), str(rport), "baseline", "200"] + bench.SHARD_STREAMS,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return callgrind_total(out), dump(redis_pid, redis_dump)


def one(n, tmp, with_redis_count):
    """Drains N events; returns (nudged instructions, redis instructions or None, firings,
    the baseline's (own, redis) instructions or None)."""
    procs = []
    rport, hport = bench.free_port(), bench.free_port()
    rout, nout = os.path.join(tmp, "redis-%d.cg" % n), os.path.join(tmp, "nudged-%d.cg" % n)
    wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + rout] if with_redis_count else []
    try:
        rs = subprocess.Popen(wrap + ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", tmp],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(rs)
        r = redis.Redis(port=rport, decode_responses=True)
        bench.wait_for(lambda: bench._ping(r), 120, "redis")
        recv = subprocess.Popen([os.path.join(bench.BENCH_DIR, "receiver"), str(hport), os.path.join(tmp, "recv.txt")])
        procs.append(recv)
        tdir = os.path.join(tmp, "triggers-%d" % n)
        os.makedirs(tdir)
        trigs = bench.triggers(hport)
        with open(os.path.join(tdir, "bench.json"), "w") as f:
            json.dump(trigs, f)
        model = bench.Model(trigs)
        pipe = r.pipeline(transaction=False)
        for i, m in enumerate(bench.messages(random.Random(42), n, model, True)):
            pipe.xadd(bench.shard_stream(json.loads(m)["userId"]), {"message": m})
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        conf = os.path.join(tmp, "nudged-%d.conf" % n)
        with open(conf, "w") as f:
            f.write("[redis]\nurl = redis://127.0.0.1:%d/0\nbatch = 200\n[triggers]\ndir = %s\n"
                    "[http]\nadmin_listen =\n[delivery]\nmax_inflight = 256\nper_host = 64\n[log]\nlevel = warn\n"
                    % (rport, tdir))
        base = None
        if with_redis_count:
            base = baseline(rs.pid, rport, rout + ".1", os.path.join(tmp, "baseline.cg"))
            subprocess.run(["callgrind_control", "-z", str(rs.pid)], stdout=subprocess.DEVNULL, check=True)
        nd = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + nout, bench.NUDGED, "-c", conf],
                              stderr=subprocess.DEVNULL)
        procs.append(nd)
        bench.wait_for(lambda: group_ready(r), 120, "nudged to start")
        # Once a second: each look costs Redis an XINFO GROUPS a shard, counted
        # with nudged's commands (under callgrind the drain takes minutes).
        bench.wait_for(lambda: bench.drained_shards(r, "nudged", n), 1800, "nudged to drain", every=1.0)
        if model.fired:
            bench.wait_for(lambda: bench.drained_shards(r, "nudged", model.fired, bench.OUTBOXES), 1800, "the webhooks")
        redis_total = None
        if with_redis_count:
            redis_total = dump(rs.pid, rout + ".2")
        nd.send_signal(signal.SIGTERM)
        if nd.wait(timeout=120) != 0:
            raise SystemExit("instructions: nudged exited with %d" % nd.returncode)
        recv.send_signal(signal.SIGTERM)
        recv.wait(timeout=30)
        with open(os.path.join(tmp, "recv.txt")) as f:
            received = int(f.readline().split()[1])
        if received != model.fired:
            raise SystemExit("instructions: %d webhooks for %d firings" % (received, model.fired))
        return callgrind_total(nout), redis_total, model.fired, base
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)


def main():
    bench.CUSTOMERS = max(1, EVENTS // 20)
    tmp = tempfile.mkdtemp(prefix="nudged-instr-")
    try:
        idle, _, _, _ = one(0, tmp, False)
        busy, redis_total, fired, (base_own, base_redis) = one(EVENTS, tmp, True)
    finally:
        keep = os.environ.get("BENCH_KEEP")
        if keep:
            os.makedirs(keep, exist_ok=True)
            for path in glob.glob(os.path.join(tmp, "*.cg*")):
                shutil.copy(path, keep)
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"events": EVENTS, "customers": bench.CUSTOMERS, "firings": fired,
           "nudged_instructions_per_event": (busy - idle) // EVENTS,
           "redis_instructions_per_event": redis_total // EVENTS,
           "baseline_instructions_per_event": base_own // EVENTS,
           "baseline_redis_instructions_per_event": base_redis // EVENTS}
    print("\nnudged instructions (callgrind): %d events, %d customers, %d firings\n" % (EVENTS, bench.CUSTOMERS, fired))
    print("%-48s%12d" % ("nudged, per event (drain and delivery)", out["nudged_instructions_per_event"]))
    print("%-48s%12d" % ("Redis, per event (all of nudged's commands)", out["redis_instructions_per_event"]))
    print("%-48s%12d" % ("baseline, per event (with its start)", out["baseline_instructions_per_event"]))
    print("%-48s%12d" % ("Redis, per event (the baseline's commands)", out["baseline_redis_instructions_per_event"]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
