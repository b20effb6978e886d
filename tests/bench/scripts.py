"""make bench-scripts: Redis's instructions per event for the profile script
alone, and for the floor under it, under callgrind.

The profile script is composed from daemon/lua/ as the build embeds it,
so what is measured is what nudged sends. 1,000 customers get the
bench's five event names (an order one event in five, a profile wanted for
one in thirty, read with HGETALL in the call's MULTI/EXEC; the floor is
measured without them) in runs of 200 events per call, as nudged sends
them: 10,000
events to warm the profiles, then 10,000 counted. The floor is a script
that does only the atomic part of a profile update, per event: HMGET of the
fields the profile script reads, the dedup ZADD (scored, as there, so that
the new member goes in at the head), one HSET. What the profile
script costs above the floor is its logic; the floor is what any atomic
per-event update in Redis costs (SPEC 8). Prints a table and one JSON line.
"""
import glob, hashlib, json, os, random, subprocess, sys, tempfile, time, shutil

import bench
import redis

CUSTOMERS, WARM, COUNTED, RUN = 1000, 10000, 10000, 200
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FLOOR_LUA = """
local out, i, k = {}, 5, 3
local score = '-' .. string.format('%d', math.floor(ARGV[1] / 1000))
while i <= #ARGV do
  local p, d = KEYS[k], KEYS[k + 1]
  redis.call('HMGET', p, ARGV[i + 1], 'g', 'gi', 'xp')
  local fresh = redis.call('ZADD', d, 'NX', score, ARGV[i])
  if fresh == 1 then redis.call('HSET', p, ARGV[i + 1], ARGV[i + 2]) end
  out[#out + 1] = fresh
  i, k = i + 4 + 3 * math.floor(tonumber(ARGV[i + 3]) / 12), k + 4
end
return out
"""


def profile_lua():
    """The profile script as nudged sends it: daemon/lua/profile.lua with the
    libraries it uses (scripts/embed-lua.sh), comment lines left out."""
    text = subprocess.run(["bash", os.path.join(ROOT, "scripts", "embed-lua.sh"), "compose",
                           os.path.join(ROOT, "daemon", "lua"), "profile"], capture_output=True, text=True, check=True).stdout
    return "".join(l for l in text.splitlines(True) if not l.lstrip().startswith("--"))


def run_of(rng, seq, now):
    """One call's keys and arguments: RUN events, laid out as profile_add_event does,
    and the profile keys read after it (one event in thirty has candidates)."""
    keys, argv, reads = ["nudged:schedule", "nudged:buyers"], [now, 86400000, 7776000000, 2592000000], []
    events = [("c%05d" % rng.randrange(CUSTOMERS), bench.NAMES[rng.randrange(5)], rng.random() < 1 / 30)
              for _ in range(RUN)]
    for k, (c, name, wanted) in enumerate(events):
        seq += 1
        keys += ["nudged:{%s}:%s" % (c, x) for x in "pdas"]
        last = all(e[0] != c for e in events[k + 1:])  # else the script returns it (consumer.c)
        if wanted and last:
            reads.append("nudged:{%s}:p" % c)
        order = 6 if name == "Order Completed" else 0
        argv += [hashlib.sha256(b"d-%d" % seq).digest()[:6], "e:" + name, now + seq,
                 3 + order + (1 if wanted and not last else 0)]
    return keys, argv, reads, seq


def per_event(lua, tmp, name, with_reads):
    """Redis's instructions per counted event for LUA (its callgrind output
    under TMP, named NAME), with the profile reads or without them."""
    out = os.path.join(tmp, name + ".cg")
    port = bench.free_port()
    rs = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "redis-server", "--port",
                           str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        bench.wait_for(lambda: bench._ping(r), 120, "redis under callgrind")
        sha = r.script_load(lua)
        rng, seq, now = random.Random(7), 0, int(time.time() * 1000)
        for i in range((WARM + COUNTED) // RUN):
            if i == WARM // RUN:
                subprocess.run(["callgrind_control", "-z", str(rs.pid)], stdout=subprocess.DEVNULL, check=True)
            keys, argv, reads, seq = run_of(rng, seq, now + seq)
            pipe = r.pipeline(transaction=True)  # as nudged sends it: MULTI, the script, the reads, EXEC
            pipe.evalsha(sha, len(keys), *keys, *argv)
            for p in reads if with_reads else []:
                pipe.hgetall(p)
            for res in pipe.execute()[0]:
                if isinstance(res, redis.exceptions.ResponseError):
                    raise SystemExit("bench-scripts: the script failed: %s" % res)
        subprocess.run(["callgrind_control", "-d", str(rs.pid)], stdout=subprocess.DEVNULL, check=True)
        bench.wait_for(lambda: glob.glob(out + ".*"), 60, "the callgrind dump")
        time.sleep(0.5)
        with open(glob.glob(out + ".*")[0]) as f:
            total = next(int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:")))
        return total // COUNTED
    finally:
        rs.kill()
        rs.wait(timeout=30)


def main():
    tmp = tempfile.mkdtemp(prefix="nudged-scripts-")
    try:
        full, floor = per_event(profile_lua(), tmp, "profile", True), per_event(FLOOR_LUA, tmp, "floor", False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nRedis instructions per event (callgrind), %d customers, runs of %d\n" % (CUSTOMERS, RUN))
    print("%-48s%12d" % ("the profile script", full))
    print("%-48s%12d" % ("the floor: HMGET, dedup ZADD, HSET", floor))
    print("%-48s%12.2f" % ("ratio profile script / floor", full / floor))
    print(json.dumps({"profile_script_instructions_per_event": full, "floor_instructions_per_event": floor}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
