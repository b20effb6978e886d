#!/usr/bin/env bash
# Fails when a key of the config table is missing from config/nudged.conf
# or from its man page, docs/man/nudged.conf.5 (as pgbouncer's optscan.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
while read -r key; do
  section=${key%%.*}; name=${key#*.}
  if ! awk -v s="[$section]" -v k="$name" '
      /^\[/ {cur=$0} cur==s && $0 ~ "^"k"[ \t]*=" {found=1} END {exit !found}' config/nudged.conf; then
    echo "config/nudged.conf does not document $key"; missing=1
  fi
  if ! awk -v s=".Ss [$section]" -v k=".It Cm $name Ns" '
      /^\.Ss / {cur=$0} cur==s && index($0, k) == 1 {found=1} END {exit !found}' docs/man/nudged.conf.5; then
    echo "docs/man/nudged.conf.5 does not document $key"; missing=1
  fi
done < <(build/nudged --print-config-keys)
[ $missing -eq 0 ] && echo "config doc check: every key is documented"
exit $missing
