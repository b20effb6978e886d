"""Integration tests of the customer profile (issue 4) against a real Redis."""
import json
import subprocess
import time

import redis

from harness import NUDGED, ckey, event, events_consumed, metric, scheduled, wait_for, webhook_trigger, schedule_items


def drained(r, stream, entries):
    """The group has read ENTRIES entries of STREAM and has none pending."""
    g = next((g for g in r.xinfo_groups(stream) if g["name"] == "nudged"), None)
    return g is not None and (g["entries-read"] or 0) >= entries and g["pending"] == 0


def keys_of(r, cid):
    """Every key of customer CID, of whatever kind."""
    return sorted(r.scan_iter(match=ckey(cid, "?"), count=1000))


def test_erasure_cancels_silences_and_dates(env):
    """A customer's silence and date items are in their schedule index like
    any other: forget removes them, and nothing fires for them later."""
    quiet = webhook_trigger(env.recv.port, tid="quiet", on={"silence": "60s"})
    bday = webhook_trigger(env.recv.port, tid="bday", on={"date": "customer.traits.birthday", "every": "year"})
    n = env.nudged({"t.json": [quiet, bday]})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": "gil",
                                                     "traits": {"birthday": "1990-05-17"}})})
    wait_for(lambda: len(schedule_items(r)) == 2, 10, "gil's silence and birthday")
    p = subprocess.run([NUDGED, "forget", "-c", n.conf, "gil"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "2 scheduled items" in p.stdout, (p.stdout, p.stderr)
    assert len(schedule_items(r)) == 0, schedule_items(r)
    assert n.stop() == 0


def test_forget_and_customer_endpoints(env):
    later = webhook_trigger(env.recv.port, tid="later", on="Signup", delay="60s")
    now = webhook_trigger(env.recv.port, tid="now", on="Order Completed")
    n = env.nudged({"t.json": [later, now]})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    for cid in ("eve", "fred"):
        r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": cid,
                                                         "traits": {"email": cid + "@example.nl"}})})
        r.xadd("nudged:events", {"message": event(cid, name="Signup", mid=cid + "-s")})
        r.xadd("nudged:events", {"message": event(cid, mid=cid + "-o", total=25)})
    wait_for(lambda: scheduled(r) == 2 and env.recv.count() == 2, 10, "two waiting firings")
    status, body = n.admin("GET", "/v1/customers/eve")
    view = json.loads(body)
    assert status == 200 and view["id"] == "eve" and view["events"]["Signup"]["count"] == 1, body
    assert view["traits"]["email"] == "eve@example.nl" and view["group"] == "active" and view["orders"] == 1, body
    assert keys_of(r, "eve"), "eve has keys before forget"
    p = subprocess.run([NUDGED, "forget", "-c", n.conf, "eve"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and 'forgot "eve"' in p.stdout and "2 scheduled items" in p.stdout, (p.stdout, p.stderr)
    assert keys_of(r, "eve") == [], keys_of(r, "eve")
    assert all('"customer":"eve"' not in m for m in schedule_items(r)), "eve's waiting firing is left"
    assert n.admin("GET", "/v1/customers/eve")[0] == 404
    status, body = n.admin("DELETE", "/v1/customers/fred")
    assert status == 200 and json.loads(body)["scheduled"] == 2, body  # the waiting firing and the regroup item
    assert keys_of(r, "fred") == [] and len(schedule_items(r)) == 0
    assert n.admin("DELETE", "/v1/customers/fred")[0] == 404
    assert n.admin("GET", "/v1/customers/" + "x" * 300)[0] == 400
    assert n.stop() == 0
    assert subprocess.run([NUDGED, "forget", "-c", n.conf], capture_output=True, timeout=10).returncode == 2



def test_merge_under_concurrency(env):
    """Two processes; per customer 20 events as the anonymous id and 20 as the
    user id, interleaved, with the identify that links them in the middle.
    Every event is counted once, in the user's profile."""
    t = webhook_trigger(env.recv.port, tid="t", on="Never")
    a, b = env.nudged({"t.json": t}), env.nudged({"t.json": t})
    a.start().wait_ready(env.redis)
    b.start().wait_ready(env.redis)
    r = env.redis.client
    customers, per_side = 40, 20
    pipe = r.pipeline()
    for i in range(per_side):
        for c in range(customers):
            for uid, side in (("anonymousId", "a%d" % c), ("userId", "u%d" % c)):
                pipe.xadd("nudged:events", {"message": json.dumps(
                    {"type": "track", uid: side, "event": "Visit", "messageId": "%s-%d" % (side, i)})})
            if i == per_side // 2:
                pipe.xadd("nudged:events", {"message": json.dumps(
                    {"type": "identify", "userId": "u%d" % c, "anonymousId": "a%d" % c,
                     "messageId": "id-%d" % c, "traits": {"email": "u%d@example.nl" % c}})})
        if i % 5 == 4:
            pipe.execute()
            time.sleep(0.05)  # let both processes pick up batches while more arrive
    pipe.execute()

    def settled():
        try:
            return events_consumed(r)
        except Exception:
            return False
    wait_for(settled, 30, "every event processed")
    for c in range(customers):
        p = r.hgetall(ckey("u%d" % c, "p"))
        assert p.get("e:Visit", "").split(" ")[0] == str(2 * per_side), "u%d: %s" % (c, p.get("e:Visit"))
        assert p.get("t:email") == '"u%d@example.nl"' % c
        assert not r.exists(ckey("a%d" % c, "p")), "a%d's profile is left" % c
        assert r.get(ckey("a%d" % c, "a")) == "u%d" % c
    status, body = a.admin("GET", "/v1/customers/u0")
    assert status == 200 and json.loads(body)["events"]["Visit"]["count"] == 2 * per_side, body
    assert a.stop() == 0 and b.stop() == 0


def test_time_alone_moves_a_customer_to_inactive(env):
    """active_period 2s: after the order, no event is sent; when the period
    runs out the customer moves to inactive and the win-back fires once,
    with two processes sharing the schedule."""
    t = webhook_trigger(env.recv.port, tid="win-back", on={"group": "inactive"},
                        body={"c": "{{customer.id}}", "g": "{{customer.group}}", "e": "{{event.type}}"})
    conf = "[triggers]\nactive_period = 2s\n"
    a, b = env.nudged({"t.json": t}, conf=conf), env.nudged({"t.json": t}, conf=conf)
    a.start().wait_ready(env.redis)
    b.start().wait_ready(env.redis)
    r = env.redis.client
    for c in ("ida", "jo"):
        r.xadd("nudged:events", {"message": event(c, mid=c + "-o", total=10)})
    wait_for(lambda: r.hget(ckey("ida", "p"), "g") == "active" and r.hget(ckey("jo", "p"), "g") == "active", 5,
             "both active")
    assert env.recv.count() == 0
    wait_for(lambda: env.recv.count() >= 2, 10, "two win-backs after the active period")
    time.sleep(1.5)
    got = sorted((json.loads(q["body"])["c"], json.loads(q["body"])["g"], json.loads(q["body"])["e"])
                 for q in env.recv.all())
    assert got == [("ida", "inactive", "group"), ("jo", "inactive", "group")], got
    assert r.hget(ckey("ida", "p"), "g") == "inactive"
    assert a.stop() == 0 and b.stop() == 0


def test_every_key_expires_profile_ttl_after_the_last_event(env):
    t = webhook_trigger(env.recv.port, tid="later", on="Signup", delay="1h")
    n = env.nudged({"t.json": t}, conf="[triggers]\nprofile_ttl = 3s\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": "kim", "anonymousId": "anon-kim",
                                                     "traits": {"email": "kim@example.nl"}})})
    r.xadd("nudged:events", {"message": event("kim", name="Signup", mid="k-1")})
    r.xadd("nudged:events", {"message": event("kim", mid="k-2", total=5)})
    wait_for(lambda: len(keys_of(r, "kim")) >= 4, 5, "kim's keys")
    ttls = {k: r.pttl(k) for k in keys_of(r, "kim") + keys_of(r, "anon-kim")}
    # profile_ttl, plus the slack of 1/64 by which a refresh sets it longer
    assert all(0 < v <= 3000 + 3000 // 64 for v in ttls.values()), ttls
    wait_for(lambda: not keys_of(r, "kim") and not keys_of(r, "anon-kim"), 6, "kim's keys to expire")
    assert n.stop() == 0


def test_later_events_keep_the_keys_alive(env):
    """The time to live is set again once per 1/64 of profile_ttl (the field
    xp holds which such period last set it), so after every event the keys
    live at least profile_ttl more, and at most the slack beyond it."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, tid="t", on="Never")}, conf="[triggers]\nprofile_ttl = 2s\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    for i in range(8):  # 3.5 s of events, longer than profile_ttl
        r.xadd("nudged:events", {"message": event("liv", name="Visit", mid="l-%d" % i)})
        wait_for(lambda: (r.hget(ckey("liv", "p"), "e:Visit") or "0").split()[0] == str(i + 1), 5, "event %d" % i)
        ttl = r.pttl(ckey("liv", "p"))
        assert 2000 - 300 < ttl <= 2000 + 2000 // 64, (i, ttl)
        time.sleep(0.5)
    assert n.stop() == 0


def test_first_and_last_hold_when_events_come_out_of_order(env):
    """An event name's first and last times are the earliest and latest
    event times, in whatever order the events arrive."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, tid="t", on="Never")})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    base = 1_790_000_000_000
    for i, off in enumerate((5000, 1000, 9000, 3000)):  # later, earlier, latest, between
        m = json.loads(event("ooo", name="Visit", mid="o-%d" % i))
        m["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((base + off) // 1000)) + ".%03dZ" % ((base + off) % 1000)
        r.xadd("nudged:events", {"message": json.dumps(m)})
    wait_for(lambda: (r.hget(ckey("ooo", "p"), "e:Visit") or "0").split()[0] == "4", 5, "four visits")
    assert r.hget(ckey("ooo", "p"), "e:Visit") == "4 %d %d" % (base + 1000, base + 9000), r.hget(ckey("ooo", "p"), "e:Visit")
    assert n.stop() == 0


def test_an_orders_regroup_item_names_the_customer_whatever_its_id(env):
    """An order schedules the customer's regroup item (the move to inactive
    when active_period runs out); the script takes the customer's id from
    its key, so an id with braces and colons comes out whole."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, tid="t", on="Never")})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    cid = "we}ird{id:p"
    r.xadd("nudged:events", {"message": event(cid, mid="w-1", total=5)})
    wait_for(lambda: len(schedule_items(r)) == 1, 5, "the regroup item")
    item = json.loads(schedule_items(r)[0])
    assert item == {"customer": cid, "k": "g"}, item
    assert n.stop() == 0


def test_each_event_of_a_batch_sees_the_customer_right_after_it(env):
    """Two visits of one customer read in one batch: `if` sees the count
    after each, not after both (the profile of the last event of a customer
    in a run is read after the run, the others' within it)."""
    first = webhook_trigger(env.recv.port, tid="first", on="Visit", body={"t": "first", "m": "{{event.messageId}}"})
    first["if"] = {"customer.events.Visit.count": {"lte": 1}}
    again = webhook_trigger(env.recv.port, tid="again", on="Visit", body={"t": "again", "m": "{{event.messageId}}"})
    again["if"] = {"customer.events.Visit.count": {"gte": 2}}
    n = env.nudged({"t.json": [first, again]})
    r = env.redis.client
    r.xgroup_create("nudged:events", "nudged", id="0", mkstream=True)
    pipe = r.pipeline()
    for c in ("bat", "bob", "bea"):  # written before nudged starts: its first read takes them all
        for i in (1, 2):
            pipe.xadd("nudged:events", {"message": event(c, name="Visit", mid="%s-%d" % (c, i))})
    pipe.execute()
    n.start().wait_ready(env.redis)
    wait_for(lambda: env.recv.count() >= 6, 10, "six webhooks")
    time.sleep(0.5)
    got = sorted((json.loads(q["body"])["t"], json.loads(q["body"])["m"]) for q in env.recv.all())
    want = sorted([("first", c + "-1") for c in ("bat", "bob", "bea")] + [("again", c + "-2") for c in ("bat", "bob", "bea")])
    assert got == want, got
    assert n.stop() == 0


def test_traits_merge_deeply_from_identify_and_context(env):
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, tid="t", on="Never")})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    for m in ({"type": "identify", "userId": "lea", "traits": {"address": {"city": "Utrecht", "street": "Oudegracht"},
                                                              "plan": "free"}},
              {"type": "track", "userId": "lea", "event": "Seen",
               "context": {"traits": {"address": {"zip": "3511"}, "plan": "pro"}}}):
        r.xadd("nudged:events", {"message": json.dumps(m)})
    wait_for(lambda: n.admin("GET", "/v1/customers/lea")[0] == 200 and
             json.loads(n.admin("GET", "/v1/customers/lea")[1])["events"].get("Seen"), 5, "both events")
    traits = json.loads(n.admin("GET", "/v1/customers/lea")[1])["traits"]
    assert traits == {"address": {"city": "Utrecht", "street": "Oudegracht", "zip": "3511"}, "plan": "pro"}, traits
    assert n.stop() == 0


def test_a_profile_changed_behind_the_cache_is_read_again(env):
    """nudged keeps the profiles it works on in memory and commits what
    changed, checked against the profile's version (field v), which every
    writer of a profile hash moves on. A profile changed in Redis behind
    its copy (another process, a script, an operator) makes the commit
    refused and the batch read again with the profile: nothing of either
    is lost, no event is applied twice. A field written without the version
    is never overwritten by a round that did not change it: a commit writes
    only the fields it changed."""
    gold = webhook_trigger(env.recv.port, tid="gold", on="Visit", body={"c": "{{customer.id}}"})
    gold["if"] = {"customer.traits.plan": "gold"}
    n = env.nudged({"t.json": gold})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    p = ckey("cat", "p")
    r.xadd("nudged:events", {"message": event("cat", name="Visit", mid="c-1")})
    wait_for(lambda: r.hget(p, "e:Visit") is not None, 5, "the first visit")
    assert r.hget(p, "v") == "1"
    r.hset(p, "t:plan", '"gold"')  # behind nudged's copy, as any writer does it: with the version
    r.hincrby(p, "v", 1)
    r.xadd("nudged:events", {"message": event("cat", name="Visit", mid="c-2")})
    wait_for(lambda: env.recv.count() >= 1, 10, "the gold visit fired")
    wait_for(lambda: events_consumed(r), 5, "every event processed")
    assert r.hget(p, "e:Visit").split()[0] == "2" and r.hget(p, "t:plan") == '"gold"' and r.hget(p, "v") == "3"
    assert metric(n, "nudged_profile_cache_stale_total") >= 1
    r.hset(p, "l:other", "123")  # without the version: a field no round here changes
    r.xadd("nudged:events", {"message": event("cat", name="Visit", mid="c-3")})
    wait_for(lambda: r.hget(p, "e:Visit").split()[0] == "3", 5, "the third visit")
    assert r.hget(p, "l:other") == "123" and r.hget(p, "v") == "4"
    r.xadd("nudged:events", {"message": event("cat", name="Visit", mid="c-3")})  # a repeat
    time.sleep(0.5)
    wait_for(lambda: events_consumed(r), 5, "the repeat processed")
    assert r.hget(p, "e:Visit").split()[0] == "3" and env.recv.count() == 2
    assert r.xlen("nudged:rejected") == 0
    assert metric(n, "nudged_profile_cache_hits_total") >= 1
    assert n.stop() == 0


def test_without_a_cache_every_batch_reads_its_profiles(env):
    """cache_size = 0B keeps only the profiles of the batches in flight:
    each batch (one at a time here) reads its customers again, and the
    counts come out exact all the same (the bound is the operator's,
    correctness is not)."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, tid="t", on="Never")},
                   conf="[redis]\ncache_size = 0B\nbatch = 7\npipeline = 1\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    for i in range(60):
        r.xadd("nudged:events", {"message": event("z%d" % (i % 3), name="Visit", mid="z-%d" % i)})
    wait_for(lambda: events_consumed(r), 10, "every event processed")
    counts = [r.hget(ckey("z%d" % k, "p"), "e:Visit").split()[0] for k in range(3)]
    assert counts == ["20", "20", "20"], counts
    kept, misses = metric(n, "nudged_profile_cache_profiles"), metric(n, "nudged_profile_cache_misses_total")
    assert kept == 0 and misses >= 9, (kept, misses)  # read at least once a batch a customer
    assert n.stop() == 0


def dedup_hash(*parts):
    """dedup_hash() in daemon/hashid.c: FNV-1a over the parts, each with its
    NUL, then murmur3's fmix64; the top 6 bytes."""
    mask, h = (1 << 64) - 1, 0xcbf29ce484222325
    for part in parts:
        for byte in part.encode() + b"\0":
            h = ((h ^ byte) * 0x100000001b3) & mask
    for mul in (0xff51afd7ed558ccd, 0xc4ceb9fe1a85ec53):
        h = ((h ^ (h >> 33)) * mul) & mask
    h ^= h >> 33
    return h.to_bytes(8, "big")[:6]


def message_hash(message_id):
    """hashid_message(): the dedup member of an applied event."""
    return dedup_hash("m", message_id)


def firing_hash(trigger, message_id):
    """hashid_firing(): the dedup member of an entry's firings ("" for an event's)."""
    return dedup_hash("f", trigger, message_id)


def test_an_events_firings_are_remembered_once_and_a_repeat_fires_nothing(env):
    """An event that fires several triggers leaves one dedup member, its
    message's: its firings are written in the same commit as the event, so
    a repeat of its messageId fires nothing, not even a trigger whose `if`
    holds only now; a waiting firing of the same event still fires when
    due, once (its member is its trigger's)."""
    now = [webhook_trigger(env.recv.port, tid=t, on="Visit", body={"t": t, "m": "{{event.messageId}}"})
           for t in ("a", "b", "c")]
    second = webhook_trigger(env.recv.port, tid="second", on="Visit", body={"t": "second", "m": "{{event.messageId}}"})
    second["if"] = {"customer.events.Visit.count": {"gte": 2}}
    later = webhook_trigger(env.recv.port, tid="later", on="Visit", delay="1s",
                            body={"t": "later", "m": "{{event.messageId}}"})
    n = env.nudged({"t.json": now + [second, later]})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    raw = redis.Redis(host="127.0.0.1", port=env.redis.port)
    r.xadd("nudged:events", {"message": event("fx", name="Visit", mid="v1")})
    wait_for(lambda: env.recv.count() >= 3, 10, "the first visit's three webhooks")
    members = set(raw.zrange(ckey("fx", "d"), 0, -1))
    assert members == {message_hash("v1")}, members
    r.xadd("nudged:events", {"message": event("fx", name="Visit", mid="v2")})
    wait_for(lambda: env.recv.count() >= 7, 10, "the second visit's four webhooks")
    r.xadd("nudged:events", {"message": event("fx", name="Visit", mid="v1")})  # a repeat: `second` holds now
    wait_for(lambda: drained(r, "nudged:events", 3) and events_consumed(r), 10, "the repeat")
    wait_for(lambda: env.recv.count() >= 9, 10, "the two waiting firings")
    time.sleep(0.5)
    got = sorted((json.loads(q["body"])["t"], json.loads(q["body"])["m"]) for q in env.recv.all())
    want = sorted([(t, m) for t in ("a", "b", "c", "later") for m in ("v1", "v2")] + [("second", "v2")])
    assert got == want, got
    assert r.hget(ckey("fx", "p"), "e:Visit").split()[0] == "2"
    members = set(raw.zrange(ckey("fx", "d"), 0, -1))
    assert {firing_hash("later", "v1"), firing_hash("later", "v2")} <= members, members
    assert len(members) == 4, members  # 2 events, 2 waiting firings
    assert n.stop() == 0


def test_dedup_finds_members_in_the_window_and_trims_the_rest(env):
    """A messageId is applied once. Dedup members are scored by minus the
    second; one inside the 24 h window is found, and the trim (every 16th
    event of a name) drops those out of it, and nothing inside it."""
    n = env.nudged({"t.json": webhook_trigger(env.recv.port, on="Visit")})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    raw = redis.Redis(host="127.0.0.1", port=env.redis.port)
    now = int(time.time())
    raw.zadd(ckey("dd", "d"), {message_hash("in"): -(now - 3600), message_hash("out"): -(now - 90000)})
    r.xadd("nudged:events", {"message": event("dd", name="Visit", mid="in")})  # applied before: a repeat
    for i in range(16):
        r.xadd("nudged:events", {"message": event("dd", name="Visit", mid="v-%d" % i)})
    wait_for(lambda: env.recv.count() >= 16, 10, "16 webhooks")
    wait_for(lambda: drained(r, "nudged:events", 17) and events_consumed(r), 10, "the 17 events")
    time.sleep(0.3)
    assert env.recv.count() == 16, "the repeat fired: its firings were written with it"
    assert r.hget(ckey("dd", "p"), "e:Visit").split()[0] == "16", "the repeat of in was applied again"
    scores = {m: s for m, s in raw.zrange(ckey("dd", "d"), 0, -1, withscores=True)}
    assert scores.get(message_hash("in")) == -(now - 3600), scores
    assert message_hash("out") not in scores, "the trim left it"
    assert all(-now - 5 <= scores.get(message_hash("v-%d" % i), 0) <= -now + 5 for i in range(16)), scores
    assert all(s < 0 for s in scores.values()), scores
    assert n.stop() == 0


def test_a_merge_whose_anonymous_profile_changed_behind_the_cache_is_done_again(env):
    """A merge folds the anonymous profile nudged has in memory into the
    user's and commits it with the round, checked against the anonymous
    profile's version. Written behind nudged's copy (another process, an
    operator), it makes the round refused and the merge done again from
    the profile as Redis has it: the user gets what was written behind,
    every event is counted once, the anonymous keys go and the id links
    to the user."""
    gold = webhook_trigger(env.recv.port, tid="gold", on="Ping", body={"c": "{{customer.id}}"})
    gold["if"] = {"customer.traits.plan": "gold"}
    n = env.nudged({"t.json": gold})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    anon, user = ckey("an-7", "p"), ckey("us-7", "p")

    def send(m):
        r.xadd("nudged:events", {"message": json.dumps(m)})
    send({"type": "track", "anonymousId": "an-7", "event": "Visit", "messageId": "v-1"})
    send({"type": "track", "userId": "us-7", "event": "Visit", "messageId": "v-2"})
    wait_for(lambda: r.hget(anon, "v") == "1" and r.hget(user, "v") == "1", 5, "both profiles, in memory too")
    r.hset(anon, "t:plan", '"gold"')  # behind nudged's copy, with the version
    r.hincrby(anon, "v", 1)
    send({"type": "identify", "userId": "us-7", "anonymousId": "an-7", "messageId": "id-7"})
    wait_for(lambda: r.get(ckey("an-7", "a")) == "us-7", 10, "the merge, done again")
    send({"type": "track", "userId": "us-7", "event": "Ping", "messageId": "p-1"})
    wait_for(lambda: env.recv.count() >= 1, 10, "the ping of a gold customer")
    wait_for(lambda: events_consumed(r), 5, "every event processed")
    assert r.hget(user, "t:plan") == '"gold"', r.hgetall(user)
    assert r.hget(user, "e:Visit").split()[0] == "2", r.hget(user, "e:Visit")
    assert not r.exists(anon) and r.get(ckey("an-7", "a")) == "us-7"
    assert r.smembers(ckey("us-7", "m")) == {ckey("an-7", "a")}
    assert metric(n, "nudged_profile_cache_stale_total") >= 1
    assert [json.loads(q["body"])["c"] for q in env.recv.all()] == ["us-7"]
    assert n.stop() == 0


def test_a_waiting_firing_keeps_its_dedup_member_alive_but_not_the_profile(env):
    """A waiting firing that comes due writes its firing hash to the
    customer's dedup set, which may have expired since their last event:
    the set gets its time to live again. The profile's own time to live
    still runs from the last event: a firing is not the customer's doing."""
    t = webhook_trigger(env.recv.port, tid="later", on="Signup", delay="2s")
    n = env.nudged({"t.json": t}, conf="[triggers]\nprofile_ttl = 6s\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": event("wes", name="Signup", mid="w-1")})
    wait_for(lambda: r.exists(ckey("wes", "d")), 5, "the signup applied")
    r.delete(ckey("wes", "d"))  # as if it had expired
    wait_for(lambda: env.recv.count() >= 1, 10, "the waiting firing")
    time.sleep(0.3)
    assert r.exists(ckey("wes", "d")), "the firing's hash was not kept"
    assert 0 < r.pttl(ckey("wes", "d")) <= 6000 + 6000 // 64, r.pttl(ckey("wes", "d"))
    assert 0 < r.pttl(ckey("wes", "p")) <= 6000 + 6000 // 64 - 1500, "the firing kept the profile alive"
    assert n.stop() == 0


def test_a_regroup_that_moves_nobody_fires_nothing(env):
    """The regroup item of an order comes due for a customer a trigger has
    excluded since: their group stays excluded, nothing moves, nothing
    fires, nothing is dropped, and later events go on."""
    back = webhook_trigger(env.recv.port, tid="win-back", on={"group": "inactive"}, body={"c": "{{customer.id}}"})
    out = {"id": "out", "on": "Opt Out", "actions": [{"set": {"group": "excluded"}}]}
    ping = webhook_trigger(env.recv.port, tid="ping", on="Ping", body={"c": "{{customer.id}}"})
    n = env.nudged({"t.json": [back, out, ping]}, conf="[triggers]\nactive_period = 1s\n")
    n.start().wait_ready(env.redis)
    r = env.redis.client
    r.xadd("nudged:events", {"message": event("oz", mid="oz-o", total=10)})
    r.xadd("nudged:events", {"message": event("oz", name="Opt Out", mid="oz-x")})
    r.xadd("nudged:events", {"message": event("oz", name="Visit", mid="oz-v")})  # the event that moves the group
    wait_for(lambda: r.hget(ckey("oz", "p"), "g") == "excluded", 5, "excluded")
    wait_for(lambda: len(schedule_items(r)) == 0, 10, "the regroup item come due")
    time.sleep(0.5)
    r.xadd("nudged:events", {"message": event("oz", name="Ping", mid="oz-p")})
    wait_for(lambda: env.recv.count() >= 1, 10, "the ping after it")
    assert [json.loads(q["body"])["c"] for q in env.recv.all()] == ["oz"]
    assert r.hget(ckey("oz", "p"), "g") == "excluded"
    assert metric(n, "nudged_timers_dropped_total") == 0
    assert n.stop() == 0


def test_a_waiting_firing_judged_from_a_stale_copy_is_judged_again(env):
    """A waiting firing is judged from the profile in memory; the commit
    that acks it checks that Redis still has that profile. Changed behind
    the copy (another process), the firing is judged again from Redis:
    here the copy says the `if` does not hold and Redis says it does."""
    later = webhook_trigger(env.recv.port, tid="later", on="Signup", delay="2s", body={"c": "{{customer.id}}"})
    later["if"] = {"customer.traits.plan": "gold"}
    n = env.nudged({"t.json": later})
    n.start().wait_ready(env.redis)
    r = env.redis.client
    p = ckey("sta", "p")
    r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": "sta", "traits": {"plan": "gold"}})})
    r.xadd("nudged:events", {"message": event("sta", name="Signup", mid="s-1")})
    wait_for(lambda: len(schedule_items(r)) == 1, 5, "the waiting firing")
    r.xadd("nudged:events", {"message": json.dumps({"type": "identify", "userId": "sta", "traits": {"plan": "silver"}})})
    wait_for(lambda: r.hget(p, "t:plan") == '"silver"', 5, "silver, in memory too")
    r.hset(p, "t:plan", '"gold"')  # behind nudged's copy, with the version
    r.hincrby(p, "v", 1)
    wait_for(lambda: env.recv.count() >= 1, 10, "the firing, judged from Redis's profile")
    assert metric(n, "nudged_profile_cache_stale_total") >= 1
    assert n.stop() == 0


TESTS = [test_erasure_cancels_silences_and_dates, test_a_waiting_firing_judged_from_a_stale_copy_is_judged_again, test_a_regroup_that_moves_nobody_fires_nothing, test_a_waiting_firing_keeps_its_dedup_member_alive_but_not_the_profile, test_a_merge_whose_anonymous_profile_changed_behind_the_cache_is_done_again, test_an_events_firings_are_remembered_once_and_a_repeat_fires_nothing,
         test_dedup_finds_members_in_the_window_and_trims_the_rest, test_a_profile_changed_behind_the_cache_is_read_again, test_without_a_cache_every_batch_reads_its_profiles, test_traits_merge_deeply_from_identify_and_context, test_every_key_expires_profile_ttl_after_the_last_event, test_later_events_keep_the_keys_alive, test_each_event_of_a_batch_sees_the_customer_right_after_it, test_an_orders_regroup_item_names_the_customer_whatever_its_id, test_first_and_last_hold_when_events_come_out_of_order, test_forget_and_customer_endpoints, test_merge_under_concurrency, test_time_alone_moves_a_customer_to_inactive]
