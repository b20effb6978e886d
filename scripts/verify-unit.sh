#!/usr/bin/env bash
# Checks systemd/nudged.service: `systemd-analyze verify` (with the unit's
# binary path pointed at the fresh build) and an exposure of at most 1.0.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/nudged|$PWD/build/nudged|g" systemd/nudged.service > "$tmp/nudged.service"
if ! out=$(systemd-analyze verify "$tmp/nudged.service" 2>&1) || [ -n "$out" ]; then
  echo "systemd-analyze verify failed:"; echo "$out"; exit 1
fi
score=$(systemd-analyze security --offline=true "$tmp/nudged.service" 2>/dev/null | sed -n 's/.*exposure level for nudged.service: \([0-9.]*\).*/\1/p')
echo "systemd unit: verify ok, exposure $score (limit 1.0)"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.0) }'
