"""make chaos: nudged under a hostile operator (issue 18). Two processes on
one real Redis; 20,000 events (a fifth through the collector, the rest
XADDed); five times one process is killed with SIGKILL and started again;
the webhook receiver answers 503 for 4 s. Then every event must have caused
exactly one delivery: a messageId delivered under two webhook-ids is a
double, one never delivered is lost; the same webhook-id twice is an
at-least-once repeat (allowed, and counted). Each customer's profile must
count exactly its events. Prints one line of figures; exits 1 on any loss
or double. Usage: chaos.py [SEED] (default 1)."""
import json, os, random, signal, sys, threading, time, urllib.request, base64

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Env, ckey, free_port, no_pending_all, wait_for, webhook_trigger  # noqa: E402

N, CUSTOMERS, KILLS, OUTAGE_S = 20000, 500, 5, 4.0


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = random.Random(seed)
    outage = {"from": 0.0, "until": 0.0}
    env = Env(script=lambda path, k: 503 if time.time() < outage["until"] else 200)
    try:
        return run(env, rng, outage, seed)
    finally:
        env.close()


def run(env, rng, outage, seed):
    keys = os.path.join(env.dir, "keys")
    with open(keys, "w") as f:
        f.write("wk_chaos\n")
    trig = webhook_trigger(env.recv.port, body={"c": "{{customer.id}}", "m": "{{event.messageId}}"})
    ports = [free_port(), free_port()]
    procs = [env.nudged({"t.json": trig}, conf="[redis]\nclaim_idle = 3s\n[delivery]\nretry_schedule = 1s,2s,4s,8s\n"
                        "[http]\ningest_listen = 127.0.0.1:%d\nwrite_keys_file = %s\n" % (p, keys)) for p in ports]
    for n in procs:
        n.start().wait_ready(env.redis)
    r = env.redis.client
    sent, per_customer = [], {}
    done = threading.Event()

    def produce():
        auth = "Basic " + base64.b64encode(b"wk_chaos:").decode()
        for start in range(0, N, 200):
            batch = []
            for i in range(start, min(start + 200, N)):
                c = "c%d" % rng.randrange(CUSTOMERS)
                m = {"type": "track", "userId": c, "event": "Order Completed", "messageId": "m%d" % i,
                     "properties": {"total": 1}}
                batch.append(m)
                per_customer[c] = per_customer.get(c, 0) + 1
                sent.append(m["messageId"])
            if start % 1000 == 0:  # a fifth through a collector, whichever is up
                for attempt in range(100):
                    port = ports[attempt % 2]
                    req = urllib.request.Request("http://127.0.0.1:%d/v1/batch" % port,
                                                 data=json.dumps({"batch": batch}).encode(),
                                                 headers={"Authorization": auth})
                    try:
                        if urllib.request.urlopen(req, timeout=5).status == 200:
                            break
                    except Exception:
                        time.sleep(0.1)
                else:
                    raise SystemExit("chaos: no collector took a batch")
            else:
                pipe = r.pipeline(transaction=False)
                for m in batch:
                    pipe.xadd("nudged:events", {"message": json.dumps(m)})
                pipe.execute()
            time.sleep(0.02)
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    kills = 0
    while kills < KILLS:
        time.sleep(rng.uniform(0.8, 1.6))
        victim = procs[rng.randrange(2)]
        victim.stop(signal.SIGKILL, timeout=5)
        kills += 1
        if kills == 2:
            outage["from"], outage["until"] = time.time(), time.time() + OUTAGE_S
        time.sleep(rng.uniform(0.1, 0.5))
        victim.start()
    t.join(timeout=120)
    for n in procs:
        if n.proc.poll() is not None:
            n.start()

    def settled():
        got = {json.loads(q["body"])["m"] for q in env.recv.all()
               if q["path"] == "/hook" and not (outage["from"] <= q["t"] < outage["until"])}
        return len(got) >= N and no_pending_all(r, "nudged:actions")
    try:
        wait_for(settled, 120, "every delivery")
    except AssertionError:
        pass
    # The receiver records every attempt; those during the outage got 503.
    reqs = [q for q in env.recv.all() if q["path"] == "/hook" and not (outage["from"] <= q["t"] < outage["until"])]
    by_mid = {}
    for q in reqs:
        by_mid.setdefault(json.loads(q["body"])["m"], set()).add(q["headers"]["webhook-id"])
    ok_posts = len(reqs)
    lost = sum(1 for m in sent if m not in by_mid)
    doubled = sum(1 for ids in by_mid.values() if len(ids) > 1)
    distinct_ids = sum(len(ids) for ids in by_mid.values())
    repeats = ok_posts - distinct_ids
    wrong_counts = 0
    for c, k in per_customer.items():
        v = r.hget(ckey(c, "p"), "e:Order Completed")
        if v is None or int(v.split()[0]) != k:
            wrong_counts += 1
    dead = r.xlen("nudged:dead")
    print("chaos seed %d: events %d, kills %d, outage %.0fs, deliveries received %d, lost %d, doubled %d, "
          "same-id repeats %d, dead %d, profiles with wrong counts %d"
          % (seed, len(sent), kills, OUTAGE_S, ok_posts, lost, doubled, repeats, dead, wrong_counts))
    for n in procs:
        n.stop()
    return 1 if lost or doubled or wrong_counts or dead else 0


if __name__ == "__main__":
    sys.exit(main())
