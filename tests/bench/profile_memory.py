#!/usr/bin/python3
"""Redis bytes for one customer (issue 4): 20 event names (5 of them three
times, feeding 5 windowed counters), 10 traits, applied by the real daemon
to a fresh redis-server; MEMORY USAGE summed over every key of the customer.
Prints a table and one JSON line."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Env, ckey, events_consumed, wait_for  # noqa: E402


def main():
    env = Env()
    try:
        names = ["Event %02d" % i for i in range(20)]
        triggers = [{"id": "w%d" % k, "on": names[k], "if": {"count": {"event": names[k], "within": "7d"}, "gte": 99},
                     "actions": [{"score": 1}]} for k in range(5)]
        n = env.nudged({"t.json": triggers})
        n.start().wait_ready(env.redis)
        r = env.redis.client
        msgs = [{"type": "identify", "userId": "c1", "traits": {"t%d" % i: "value %d" % i for i in range(10)}}]
        for i, name in enumerate(names):
            msgs += [{"type": "track", "userId": "c1", "event": name}] * (3 if i < 5 else 1)
        for m in msgs:
            r.xadd("nudged:events", {"message": json.dumps(m)})
        wait_for(lambda: events_consumed(r), 20, "the events applied")
        rows, total = [], 0
        for k in sorted(r.scan_iter(match=ckey("c1", "?"))):
            size = r.memory_usage(k, samples=0)
            total += size
            rows.append((k, r.type(k), r.object("encoding", k), size))
        print("%-20s %-5s %-9s %6s" % ("key", "type", "encoding", "bytes"))
        for row in rows:
            print("%-20s %-5s %-9s %6d" % row)
        print("%-36s %6d   (target 1024)" % ("total for the customer", total))
        print(json.dumps({"customer_bytes": total, "events": len(msgs), "fields": r.hlen(ckey("c1", "p")),
                          "keys": {k: s for k, _, _, s in rows}}))
        n.stop()
    finally:
        env.close()


if __name__ == "__main__":
    main()
