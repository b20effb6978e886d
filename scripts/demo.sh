#!/usr/bin/env bash
# make demo: a throwaway redis-server on a free port, nudged with the example
# triggers of config/, a few sample events posted to its Segment-compatible
# collector as a site would, and the emails and webhooks they caused (to a
# local SMTP server and a local webhook receiver).
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tmp=$(mktemp -d /tmp/nudged-demo-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

redis_port=$(free_port); hook_port=$(free_port); smtp_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
/usr/bin/python3 scripts/demo_receiver.py "$hook_port" >"$tmp/webhooks.txt" 2>&1 &
pids+=($!)
/usr/bin/python3 scripts/demo_smtp.py "$smtp_port" >"$tmp/emails.txt" 2>&1 &
pids+=($!)
mkdir -p "$tmp/triggers.d"
# The examples post to 127.0.0.1:8099; point them at this demo's receiver.
for f in config/triggers.d/*.json; do sed "s/127.0.0.1:8099/127.0.0.1:$hook_port/g" "$f" >"$tmp/triggers.d/$(basename "$f")"; done
cp -r config/triggers.d/templates "$tmp/triggers.d/"
admin_port=$(free_port); ingest_port=$(free_port)
echo "wk_demo_site" >"$tmp/write_keys"

for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export NUDGED_REDIS_URL="redis://127.0.0.1:$redis_port/0" NUDGED_TRIGGERS_DIR="$tmp/triggers.d" \
    NUDGED_HTTP_ADMIN_LISTEN="127.0.0.1:$admin_port" NUDGED_HTTP_INGEST_LISTEN="127.0.0.1:$ingest_port" \
    NUDGED_HTTP_WRITE_KEYS_FILE="$tmp/write_keys" NUDGED_SMTP_URL="smtp://127.0.0.1:$smtp_port" \
    NUDGED_SMTP_FROM="Demo Winkel <winkel@example.nl>" NUDGED_SMTP_TLS=none \
    NUDGED_SMTP_UNSUBSCRIBE_URL='https://shop.example/unsubscribe?c={{customer.id}}'
build/nudged check -c config/nudged.conf
build/nudged -c config/nudged.conf 2>"$tmp/nudged.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "nudged ready" "$tmp/nudged.log" && break; sleep 0.1; done

collector="http://127.0.0.1:$ingest_port"
echo "== posting sample events to the collector ($collector, write key wk_demo_site), as analytics.js and a shop's server would"
send() { # PATH JSON: prints the request and nudged's answer
  printf '   POST %-12s %s\n      -> ' "$1" "$2"
  curl -s -u wk_demo_site: -H 'Content-Type: text/plain' -w ' (HTTP %{http_code})\n' --data-binary "$2" "$collector$1"
}
send /v1/p '{"anonymousId":"anon-7","properties":{"path":"/pricing"}}'
send /v1/p '{"anonymousId":"anon-7","properties":{"path":"/pricing/pro"}}'
send /v1/p '{"anonymousId":"anon-7","properties":{"path":"/pricing"}}'
send /v1/identify '{"userId":"zoe","anonymousId":"anon-9","traits":{"email":"zoe@example.com","first_name":"Zoë"},"context":{"timezone":"Europe/Amsterdam"}}'
send /v1/batch '{"batch":[{"type":"track","userId":"zoe","event":"Product Added","properties":{"name":"Fiets","price":499}},{"type":"track","userId":"zoe","event":"Order Completed","properties":{"order_id":"A-1001","total":59.95}}]}'
send /v1/track '{"event":"Order Completed"}'
for _ in $(seq 50); do [ "$(grep -c '^--- ' "$tmp/emails.txt" "$tmp/webhooks.txt" | awk -F: '{s+=$2} END {print s}')" -ge 4 ] && break; sleep 0.1; done
sleep 0.5

echo; echo "== emails received (SMTP on port $smtp_port)"; cat "$tmp/emails.txt"
echo; echo "== webhooks received"; cat "$tmp/webhooks.txt"
echo; echo "== waiting in the shards' schedules, nudged:schedule:{k} (the cart reminder, which Zoë's order cancels when it is due; the review request in 7 days)"
for k in $(seq 0 15); do redis-cli -p "$redis_port" ZRANGE "nudged:schedule:{$k}" 0 -1; done | /usr/bin/python3 -c 'import sys, json
for line in filter(str.strip, sys.stdin):  # an empty schedule is an empty line
    i = json.loads(line); print("   %s for %s" % (i.get("trigger"), i.get("customer")))'
zoe_stream=$(build/nudged shard -c config/nudged.conf zoe)
echo; echo "== one stored message ($zoe_stream, zoe's shard, where the collector wrote it: build/nudged shard zoe): the client's own, with type, receivedAt, timestamp and messageId"
redis-cli -p "$redis_port" XREVRANGE "$zoe_stream" + - COUNT 1 | tail -1 | sed 's/^/   /'
zoe_profile="nudged:{${zoe_stream##*\{}:zoe:p"  # the shard's tag, then the id: one Cluster slot a shard
echo; echo "== zoe's profile ($zoe_profile)"
redis-cli -p "$redis_port" HGETALL "$zoe_profile" | paste - - | sed 's/^/   /'
echo; echo "== metrics (GET http://127.0.0.1:$admin_port/metrics, non-zero)"
curl -s "http://127.0.0.1:$admin_port/metrics" | grep -v '^#' | grep -v ' 0$' | sed 's/^/   /'
echo; echo "== the same story in nudged replay, where time follows the events (no Redis)"
build/nudged replay -c config/nudged.conf tests/replay/examples/abandoned-cart.jsonl 2>&1 |
    /usr/bin/python3 -c 'import sys, json
for line in sys.stdin:
    try:
        f = json.loads(line)
    except ValueError:
        print("   " + line.rstrip()); continue
    kinds = ", ".join(next(iter(a)) for a in f["actions"])
    print("   %s  %-22s %-4s (%s)" % (f["at"], f["trigger"], f["customer"], kinds))'
echo; echo "== nudged's log"; cat "$tmp/nudged.log"
