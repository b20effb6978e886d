"""Shard ownership (SPEC 8) with real processes on one Redis: processes
share the shards evenly by leases; one killed with SIGKILL has its shards
taken within a lease, one stopped hands them over at once, and growing from
1 to 3 processes and back under load loses nothing and fires nothing twice
(a repeat is only ever the same webhook-id)."""
import json, signal, socket, threading, time

from harness import SHARDS, event, metric, events_consumed, no_pending, shard_stream, wait_for, webhook_trigger, no_pending_all

LEASE = "2s"


def owner_name(n):
    return "%s-%d" % (socket.gethostname(), n.proc.pid)


def owners(r):
    """How many shards each process holds a lease of."""
    held = {}
    for k in range(SHARDS):
        who = r.get("nudged:lease:{%d}" % k)
        held[who] = held.get(who, 0) + 1
    return held


def start(env, trig):
    n = env.nudged(trig, conf="[redis]\nlease = %s\n" % LEASE)
    n.start().wait_ready(env.redis)
    return n


class Load:
    """Events for CUSTOMERS customers, written in the background: each to its
    shard's stream, every fifth to the inbox, until stop(). NODE(key) is the
    client that serves KEY (on a Redis Cluster, its slot's master); by
    default R."""

    def __init__(self, r, customers=200, per_second=1000, node=None):
        self.node, self.customers, self.per_second = node or (lambda key: r), customers, per_second
        self.sent, self.running = 0, True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            pipes = {}
            for _ in range(self.per_second // 20):
                i, c = self.sent, "sc-%d" % (self.sent % self.customers)
                stream = "nudged:events" if i % 5 == 0 else shard_stream(c)
                r = self.node(stream)
                pipes.setdefault(id(r), r.pipeline(transaction=False)).xadd(stream,
                                                                          {"message": event(c, mid="ev-%d" % i)})
                self.sent += 1
            for pipe in pipes.values():
                pipe.execute()
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join(10)
        return self.sent


def check_once_each(env, total):
    """Every event fired, none under two webhook-ids."""
    wait_for(lambda: len({json.loads(q["body"])["mid"] for q in env.recv.all()}) >= total, 60, "every webhook")
    wait_for(lambda: events_consumed(env.redis.client) and no_pending_all(env.redis.client, "nudged:actions"), 30,
             "nothing pending")
    by_mid = {}
    for q in env.recv.all():
        by_mid.setdefault(json.loads(q["body"])["mid"], set()).add(q["headers"]["webhook-id"])
    assert set(by_mid) == {"ev-%d" % i for i in range(total)}, "lost: %r" % sorted(
        {"ev-%d" % i for i in range(total)} - set(by_mid))[:5]
    twice = [m for m, ids in by_mid.items() if len(ids) > 1]
    assert not twice, "fired twice with different webhook-ids: %r" % twice[:5]
    return len(env.recv.all()) - total


def test_two_processes_share_the_shards_and_one_killed_is_taken_over(env):
    r = env.redis.client
    trig = {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})}
    n1, n2 = start(env, trig), start(env, trig)
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS // 2, owner_name(n2): SHARDS // 2}, 10,
             "8 shards each")
    for n in (n1, n2):  # what the NudgedShardsWithoutOwner alert adds up
        wait_for(lambda: metric(n, "nudged_shards_owned") == SHARDS // 2 and metric(n, "nudged_processes") == 2, 5,
                 "the metrics")
        assert metric(n, "nudged_shards") == SHARDS
    load = Load(r)
    wait_for(lambda: env.recv.count() >= 500, 30, "work in flight")
    # a shard's outbox and timers are read by its owner alone: the second
    # process, which never held the first one's shards, never read theirs
    # (the first held every shard until the second registered)
    for k in range(SHARDS):
        if r.get("nudged:lease:{%d}" % k) == owner_name(n1):
            for stream in ("nudged:actions:{%d}" % k, "nudged:timers:{%d}" % k):
                readers = {c["name"] for c in r.xinfo_consumers(stream, "nudged")}
                assert owner_name(n2) not in readers, (stream, readers)
    outboxes_read = {k for k in range(SHARDS)
                     if any(c["name"] == owner_name(n2) for c in r.xinfo_consumers("nudged:actions:{%d}" % k, "nudged"))}
    assert len(outboxes_read) == SHARDS // 2, "the second process reads the outboxes of its 8 shards: %r" % outboxes_read
    n1.stop(signal.SIGKILL)
    t0 = time.time()
    wait_for(lambda: owners(r) == {owner_name(n2): SHARDS}, 10, "the survivor holds every shard")
    took = time.time() - t0
    time.sleep(1)
    total = load.stop()
    repeats = check_once_each(env, total)
    print("  shards: the killed process's shards taken over in %.1fs (lease %s); %d events, %d same-id repeats"
          % (took, LEASE, total, repeats))
    assert n2.stop() == 0


def test_grow_from_one_to_three_processes_and_back_under_load(env):
    r = env.redis.client
    trig = {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})}
    n1 = start(env, trig)
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS}, 10, "one process holds every shard")
    load = Load(r)
    n2, n3 = start(env, trig), start(env, trig)
    wait_for(lambda: sorted(owners(r).values()) == [5, 5, 6] and None not in owners(r), 15, "three even shares")
    assert set(owners(r)) == {owner_name(n) for n in (n1, n2, n3)}, owners(r)
    wait_for(lambda: env.recv.count() >= 1000, 30, "work in flight on three")
    t0 = time.time()
    assert n3.stop() == 0  # a stop lets go of its leases: the others take them at their next round
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS // 2, owner_name(n2): SHARDS // 2}, 10, "two even shares")
    handed = time.time() - t0
    assert n2.stop() == 0
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS}, 10, "one process again")
    time.sleep(1)
    total = load.stop()
    repeats = check_once_each(env, total)
    print("  shards: a stopped process's shards handed over in %.1fs; %d events, %d same-id repeats"
          % (handed, total, repeats))
    assert r.zrange("nudged:processes", 0, -1) == [owner_name(n1)], r.zrange("nudged:processes", 0, -1)
    assert n1.stop() == 0


def test_a_process_paused_past_its_lease_writes_nothing_stale(env):
    """SIGSTOP one of two processes under load until the other holds every
    shard, then SIGCONT: the batches it had in hand when paused are refused
    where they would commit (the commit checks the lease), it takes
    its share back, and nothing is lost or fired twice."""
    r = env.redis.client
    trig = {"t.json": webhook_trigger(env.recv.port, body={"mid": "{{event.messageId}}"})}
    n1, n2 = start(env, trig), start(env, trig)
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS // 2, owner_name(n2): SHARDS // 2}, 10, "8 shards each")
    load = Load(r, per_second=2000)
    wait_for(lambda: env.recv.count() >= 1000, 30, "work in flight")
    n1.proc.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: owners(r) == {owner_name(n2): SHARDS}, 10, "the other process holds every shard")
        time.sleep(1)
    finally:
        n1.proc.send_signal(signal.SIGCONT)
    wait_for(lambda: owners(r) == {owner_name(n1): SHARDS // 2, owner_name(n2): SHARDS // 2}, 10,
             "the paused process back with its share")
    time.sleep(1)
    total = load.stop()
    repeats = check_once_each(env, total)
    refused = open(n1.log).read().count("NOTOWNER")
    print("  shards: paused past its lease, %d stale commits refused; %d events, %d same-id repeats"
          % (refused, total, repeats))
    assert refused > 0, "the paused process had batches in hand: their commits must have been refused"
    assert n1.stop() == 0 and n2.stop() == 0


TESTS = [test_two_processes_share_the_shards_and_one_killed_is_taken_over,
         test_a_process_paused_past_its_lease_writes_nothing_stale,
         test_grow_from_one_to_three_processes_and_back_under_load]
