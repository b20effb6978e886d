"""Integration tests of goals and holdouts (issue 21): the counts in Redis
are exact through kill -9, a held-out customer gets nothing, `nudged
report` and GET /v1/triggers tell the same, and the metrics count by arm."""
import json, os, random, signal, subprocess, threading, time

import redis

from harness import NUDGED, ckey, skey, event, events_consumed, measures, metric, no_pending, wait_for, webhook_trigger, SHARDS, shard_keys
from holdout import bucket

def send_slowly(r, messages, seconds):
    """Adds MESSAGES to the events stream over about SECONDS, from a thread,
    so a kill lands in the middle of the work. Returns the thread."""
    def run():
        for i, m in enumerate(messages):
            r.xadd("nudged:events", {"message": m})
            if i % 20 == 19:
                time.sleep(seconds * 20 / len(messages))
    th = threading.Thread(target=run)
    th.start()
    return th


def counts(r):
    """The counts of the tests' triggers, without the filler's (below)."""
    return {k: v for k, v in measures(r).items() if not k.startswith("filler:")}


def test_goal_and_holdout_counts_are_exact_through_kill9(env):
    """1,000 customers add to their cart; the trigger holds out 50 %. Every
    third customer orders afterwards. nudged is killed -9 while it fires and
    again while it converts: the counts in Redis are still exact, only the
    treated customers got a webhook, and the report says the same. 1,023
    tallies of a filler trigger wait in each shard's list before the
    start, so that the shards' owner folds them during the run: a fold
    loses and doubles nothing either."""
    customers = ["k%04d" % i for i in range(1000)]
    held = {c for c in customers if bucket("cart", c) < 5000}
    buyers = {c for i, c in enumerate(customers) if i % 3 == 0}
    t = webhook_trigger(env.recv.port, tid="cart", on="Product Added", body={"c": "{{customer.id}}"},
                        goal={"event": "Order Completed", "within": "1h"}, holdout="50%")
    n = env.nudged({"t.json": t})
    r = env.redis.client
    for key in shard_keys("nudged:tally"):  # the next round's tally makes the shard's fold due
        r.rpush(key, *["filler t 1"] * 1023)
    n.start().wait_ready(env.redis)
    th = send_slowly(r, [event(c, name="Product Added", mid="add-" + c) for c in customers], 3)
    wait_for(lambda: sum(counts(r).values()) >= 300, 30, "firings under way")
    n.stop(signal.SIGKILL)
    print("  measure: killed -9 after %d of 1000 firings" % sum(counts(r).values()))
    n = env.nudged({"t.json": t})
    n.start().wait_ready(env.redis)
    wait_for(lambda: counts(r).get("cart:t", 0) + counts(r).get("cart:h", 0) >= 1000, 60, "every firing counted")
    assert counts(r) == {"cart:t": 1000 - len(held), "cart:h": len(held)}, counts(r)
    assert 450 < len(held) < 550, len(held)
    th.join(30)
    orders = []
    for c in sorted(buyers):
        orders.append(event(c, mid="order-" + c, total=10))
        orders.append(event(c, mid="order2-" + c, total=10))  # converts nothing more
    th = send_slowly(r, orders, 3)
    wait_for(lambda: counts(r).get("cart:ct", 0) + counts(r).get("cart:ch", 0) >= 100, 30, "conversions under way")
    n.stop(signal.SIGKILL)
    print("  measure: killed -9 after %d of %d conversions" % (counts(r).get("cart:ct", 0) + counts(r).get("cart:ch", 0),
                                                              len(buyers)))
    n = env.nudged({"t.json": t})
    n.start().wait_ready(env.redis)
    th.join(30)
    wait_for(lambda: events_consumed(r) and r.xlen("nudged:events") > 0 and
             counts(r).get("cart:ct", 0) + counts(r).get("cart:ch", 0) >= len(buyers), 60, "every conversion")
    time.sleep(0.5)
    want = {"cart:t": 1000 - len(held), "cart:h": len(held),
            "cart:ct": len(buyers - held), "cart:ch": len(buyers & held)}
    assert counts(r) == want, (counts(r), want)
    assert measures(r)["filler:t"] == 1023 * SHARDS, measures(r)
    assert sum(int(r.get(k) or 0) for k in shard_keys("nudged:folds")) >= 1, "no fold"
    assert any(r.hget(k + ":cart", "t") for k in shard_keys("nudged:measures")), "the run's counts were folded too"
    wait_for(lambda: len({json.loads(q["body"])["c"] for q in env.recv.all()}) >= 1000 - len(held), 30,
             "the treated customers' webhooks")
    time.sleep(0.5)
    got = {json.loads(q["body"])["c"] for q in env.recv.all()}
    assert got == set(customers) - held, "held-out customers got webhooks: %r" % sorted(got & held)[:5]
    assert "o:cart" not in r.hgetall(ckey(sorted(buyers)[0], "p")), "a converted firing keeps its record"
    assert "o:cart" in r.hgetall(ckey(sorted(set(customers) - buyers)[0], "p")), "a firing without its record"
    status, body = n.admin("GET", "/v1/triggers")
    assert status == 200, (status, body)
    rep = json.loads(body)["triggers"][0]
    assert rep["id"] == "cart" and rep["fired"] == want["cart:t"] and rep["held_out"] == want["cart:h"], rep
    assert rep["conversions"] == {"treated": want["cart:ct"], "held_out": want["cart:ch"]}, rep
    rate_t = want["cart:ct"] / want["cart:t"]
    assert abs(rep["conversion_rate"]["treated"] - rate_t) < 1e-9, rep
    low, high = rep["uplift"]["ci95"]
    assert low < rep["uplift"]["value"] < high and low < 0 < high, rep  # no real effect: same share buys
    assert rep["verdict"] == "no evidence yet", rep
    p = subprocess.run([NUDGED, "report", "-c", n.conf, "cart"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "fired %d, held out %d (holdout 50%%)" % (want["cart:t"], want["cart:h"]) in p.stdout, p.stdout
    assert "(%d of %d)" % (want["cart:ct"], want["cart:t"]) in p.stdout, p.stdout
    assert "no evidence yet" in p.stdout, p.stdout
    # this process's own metrics: one more customer of each arm fires and converts
    late = {arm: next(c for c in ("late%d" % i for i in range(100)) if (bucket("cart", c) < 5000) == (arm == "held_out"))
            for arm in ("treated", "held_out")}
    for c in late.values():
        r.xadd("nudged:events", {"message": event(c, name="Product Added", mid="add-" + c)})
    wait_for(lambda: counts(r)["cart:t"] + counts(r)["cart:h"] == 1002, 20, "the late firings")
    for c in late.values():
        r.xadd("nudged:events", {"message": event(c, mid="order-" + c, total=10)})
    wait_for(lambda: counts(r)["cart:ct"] + counts(r)["cart:ch"] == len(buyers) + 2, 20, "the late conversions")
    status, metrics = n.admin("GET", "/metrics")
    for arm in ("treated", "held_out"):
        line = 'nudged_trigger_conversions_total{trigger="cart",arm="%s"} ' % arm
        assert any(m.startswith(line) and int(m.split()[-1]) >= 1 for m in metrics.splitlines()), (line, metrics)
    assert 'nudged_trigger_held_out_total{trigger="cart"} ' in metrics, metrics
    assert n.stop() == 0


def test_report_names_unknown_triggers_and_unmeasured_ones(env):
    """`nudged report` with a trigger that does not exist is a usage error;
    a trigger without goal or holdout is reported as not measured; a
    trigger with a goal and no firings yet has no rates."""
    plain = webhook_trigger(env.recv.port, tid="plain", on="Signup")
    goal = webhook_trigger(env.recv.port, tid="goal", on="Signup", goal={"event": "Order Completed", "within": "7d"})
    n = env.nudged({"a.json": [plain, goal]})
    p = subprocess.run([NUDGED, "report", "-c", n.conf, "nope"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and 'no trigger "nope"' in p.stderr, (p.returncode, p.stderr)
    p = subprocess.run([NUDGED, "report", "-c", n.conf], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "plain\n  not measured" in p.stdout, p.stdout
    assert "fired 0, held out 0 (holdout none)" in p.stdout and "(no firings)" in p.stdout, p.stdout
    assert "no comparison yet" in p.stdout, p.stdout


def test_report_adds_the_tallies_not_yet_folded(env):
    """A commit pushes its round's counts to its shard's nudged:tally:{k}
    and the shard's owner folds the list into the shard's hashes: the
    report adds the hashes and lists of every shard, and a tally's other
    triggers and counts do not leak into a trigger's line."""
    goal = webhook_trigger(env.recv.port, tid="goal", on="Signup", goal={"event": "Order Completed", "within": "7d"})
    goal["holdout"] = "10%"
    n = env.nudged({"a.json": [goal]})
    r = env.redis.client
    r.hset("nudged:measures:{0}:goal", mapping={"t": 30, "h": 4, "ct": 10})
    r.hset("nudged:measures:{5}:goal", mapping={"t": 10})
    r.rpush("nudged:tally:{3}", "goal t 2 other t 7 goal ch 1", "goal-2 t 5")
    r.rpush("nudged:tally:{15}", "goal t 1")
    p = subprocess.run([NUDGED, "report", "-c", n.conf, "goal"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert "fired 43, held out 4 (holdout 10%)" in p.stdout, p.stdout
    assert "(10 of 43)" in p.stdout and "(1 of 4)" in p.stdout, p.stdout



def test_a_backlog_of_tallies_is_folded_in_turn(env):
    """5,000 tallies wait in shard 0's list (a fold takes at most 2,048): its owner
    folds them in three folds, each taking the tallies the one before
    left, and every count arrives in its hash once."""
    goal = webhook_trigger(env.recv.port, tid="goal", on="Signup", goal={"event": "Order Completed", "within": "7d"})
    n = env.nudged({"a.json": [goal]})
    r = env.redis.client
    r.rpush("nudged:tally:{0}", *["goal t 1 goal h 2"] * 5000)
    n.start().wait_ready(env.redis)
    wait_for(lambda: r.llen("nudged:tally:{0}") == 0, 10, "the backlog folded")
    assert r.hgetall("nudged:measures:{0}:goal") == {"t": "5000", "h": "10000"}, r.hgetall("nudged:measures:{0}:goal")
    assert r.get("nudged:folds:{0}") == "3", r.get("nudged:folds:{0}")


def test_a_fold_is_refused_unless_it_holds_the_lease_and_nothing_folded_since(env):
    """The fold script, as nudged sends it (daemon/lua/fold.lua), against
    Redis: refused when the process no longer holds shard 0's lease, or
    when another fold came between the read of the tallies and it (the
    number of folds moved): then nothing is added and nothing dropped.
    Otherwise the sums are added, the tallies read are dropped from the
    head (a tally pushed since stays) and the number of folds moves on."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(here, "..", "..")
    script = subprocess.run(["bash", os.path.join(root, "scripts", "embed-lua.sh"), "compose",
                             os.path.join(root, "daemon", "lua"), "fold"],
                            capture_output=True, text=True, check=True).stdout
    r = env.redis.client
    r.set("nudged:lease:{0}", "me")
    r.set("nudged:folds:{0}", "5")
    r.rpush("nudged:tally:{0}", "goal t 2", "goal t 1 goal h 1", "goal t 7")  # the third came after the read
    keys = ["nudged:lease:{0}", "nudged:tally:{0}", "nudged:folds:{0}", "nudged:measures:{0}:goal"]
    for owner, folds, refusal in (("other", "5", "NOTOWNER"), ("me", "4", "STALE")):
        try:
            r.eval(script, len(keys), *keys, owner, 2, folds, 2, "t", 3, "h", 1)
            raise AssertionError("a fold by %s at %s was not refused" % (owner, folds))
        except redis.exceptions.ResponseError as e:
            assert refusal in str(e), e
        assert r.llen(keys[1]) == 3 and not r.exists(keys[3]) and r.get(keys[2]) == "5"
    assert r.eval(script, len(keys), *keys, "me", 2, "5", 2, "t", 3, "h", 1) == 0
    assert r.hgetall(keys[3]) == {"t": "3", "h": "1"}
    assert r.lrange(keys[1], 0, -1) == ["goal t 7"] and r.get(keys[2]) == "6"


def test_a_fold_that_keeps_failing_shows_in_the_metrics_and_the_log(env):
    """nudged:folds:{0} holds something that is not a number (not nudged's):
    every fold is refused. The tallies wait, nothing is lost (the report
    still adds them), the log says why and nudged_counts_tallies_waiting
    shows them, for an alert. Once the key is deleted, the next fold
    takes them all."""
    goal = webhook_trigger(env.recv.port, tid="goal", on="Signup", goal={"event": "Order Completed", "within": "7d"})
    n = env.nudged({"a.json": [goal]})
    r = env.redis.client
    r.set("nudged:folds:{0}", "not a number")
    r.rpush("nudged:tally:{0}", *["goal t 1"] * 2000)
    n.start().wait_ready(env.redis)
    wait_for(lambda: metric(n, "nudged_counts_tallies_waiting") == 2000, 10, "the gauge of the tallies waiting")
    wait_for(lambda: n.log_has("the tallies of the counts were not folded"), 5, "the log of the refused fold")
    assert r.llen("nudged:tally:{0}") == 2000 and measures(r) == {"goal:t": 2000}, measures(r)
    r.delete("nudged:folds:{0}")
    wait_for(lambda: r.llen("nudged:tally:{0}") == 0, 10, "the fold once the key is gone")
    assert r.hgetall("nudged:measures:{0}:goal") == {"t": "2000"}, r.hgetall("nudged:measures:{0}:goal")
    wait_for(lambda: metric(n, "nudged_counts_tallies_waiting") == 0, 10, "the gauge back to 0")


def test_value_tiers_with_concurrent_orders(env):
    """Two processes take 300 orders of 100 customers at once. Then each
    customer pings: the tier and percentile a trigger sees are those of the
    final revenues (ties share a rank), and the top-tier welcome went only
    to customers who were top when it fired, once each."""
    hook = "http://127.0.0.1:%d" % env.recv.port
    trigs = [{"id": "vip", "on": {"value_tier": "top"}, "limit": {"once": True},
              "actions": [{"webhook": {"url": hook + "/vip", "body": {"c": "{{customer.id}}", "t": "{{customer.value_tier}}"}}}]},
             {"id": "ping", "on": "Ping",
              "actions": [{"webhook": {"url": hook + "/ping", "body": {"c": "{{customer.id}}",
                                                                      "t": "{{customer.value_tier | default: \"none\"}}",
                                                                      "p": "{{customer.value_percentile | default: \"none\"}}"}}}]}]
    n1, n2 = env.nudged({"t.json": trigs}), env.nudged({"t.json": trigs})
    n1.start().wait_ready(env.redis)
    n2.start().wait_ready(env.redis)
    r = env.redis.client
    rnd = random.Random(5)
    revenue, msgs = {}, []
    for i in range(300):
        c = "v%02d" % rnd.randrange(100)
        total = rnd.choice([10, 20, 20, 50, 100])  # ties on purpose
        revenue[c] = revenue.get(c, 0) + total
        msgs.append(event(c, mid="o-%d" % i, total=total))
    for m in msgs:
        r.xadd("nudged:events", {"message": m})
    wait_for(lambda: events_consumed(r) and r.xlen("nudged:events") >= 300, 30, "the orders")
    customers = ["v%02d" % i for i in range(100)]
    for c in customers:
        r.xadd("nudged:events", {"message": event(c, name="Ping", mid="ping-" + c)})
    wait_for(lambda: sum(1 for q in env.recv.all() if q["path"] == "/ping") >= 100, 30, "the pings")
    buyers = sorted(revenue.values(), reverse=True)
    top = -(-len(buyers) * 20 // 100)  # ceil(20 % of the buyers)
    for q in env.recv.all():
        b = json.loads(q["body"])
        if q["path"] == "/vip":
            assert b["t"] == "top", b
            continue
        c = b["c"]
        if c not in revenue:
            assert b["t"] == "none" and b["p"] == "none", b
            continue
        higher = sum(1 for v in buyers if v > revenue[c])
        assert b["t"] == ("top" if higher < top else "regular"), (b, higher, top)
        assert int(b["p"]) == (len(buyers) - higher) * 100 // len(buyers), (b, higher)
    vips = [json.loads(q["body"])["c"] for q in env.recv.all() if q["path"] == "/vip"]
    assert vips and len(vips) == len(set(vips)), vips
    assert n1.stop() == 0 and n2.stop() == 0



def test_buyers_follow_merges_erasure_and_expiry(env):
    """The ranking counts the customers that exist: an anonymous buyer
    merged into a user counts as the user, with the revenue summed; an
    erased one leaves it; one whose profile expired leaves it within a few
    seconds (a sample is looked at every second)."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Ping")}, conf="[triggers]\nprofile_ttl = 3s\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": json.dumps({"type": "track", "anonymousId": "an-x", "event": "Order Completed",
                                                    "messageId": "a1", "properties": {"total": 30}})})
    for c, total in (("y", 10), ("z", 20)):
        r.xadd("nudged:events", {"message": event(c, mid="o-" + c, total=total)})
    def buyers():
        return sum(r.zcard(k) for k in shard_keys("nudged:buyers"))

    def score(c):  # in the buyers zset of C's shard
        return r.zscore(skey("nudged:buyers", c), ckey(c, "p"))

    wait_for(lambda: buyers() == 3, 10, "three buyers")
    assert score("an-x") == 30 and score("y") == 10 and score("z") == 20
    r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": "x", "anonymousId": "an-x",
                                                    "messageId": "i1"})})
    r.xadd("nudged:events", {"message": event("x", mid="o-x", total=5)})
    wait_for(lambda: score("x") == 35, 10, "the user with the anonymous id's revenue")
    assert score("an-x") is None
    status, _ = n.admin("DELETE", "/v1/customers/y")
    assert status == 200 and score("y") is None, status
    wait_for(lambda: buyers() == 0, 20, "the expired buyers to leave")
    assert n.stop() == 0


TESTS = [test_report_names_unknown_triggers_and_unmeasured_ones, test_report_adds_the_tallies_not_yet_folded,
         test_a_backlog_of_tallies_is_folded_in_turn,
         test_a_fold_is_refused_unless_it_holds_the_lease_and_nothing_folded_since,
         test_a_fold_that_keeps_failing_shows_in_the_metrics_and_the_log, test_goal_and_holdout_counts_are_exact_through_kill9,
         test_value_tiers_with_concurrent_orders, test_buyers_follow_merges_erasure_and_expiry]
