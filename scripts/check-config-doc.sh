#!/usr/bin/env bash
# Fails when a key of the config table is missing from config/nudged.conf (as pgbouncer's optscan.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
while read -r key; do
  section=${key%%.*}; name=${key#*.}
  if ! awk -v s="[$section]" -v k="$name" '
      /^\[/ {cur=$0} cur==s && $0 ~ "^"k"[ \t]*=" {found=1} END {exit !found}' config/nudged.conf; then
    echo "config/nudged.conf does not document $key"; missing=1
  fi
done < <(build/nudged --print-config-keys)
[ $missing -eq 0 ] && echo "config doc check: every key is documented"
exit $missing
