#!/usr/bin/env bash
# Fails when a key of the config table is missing from config/nudged.conf,
# from its man page docs/man/nudged.conf.5 or from docs/configuration.md,
# or when docs/configuration.md documents a key the code does not have
# (as pgbouncer's optscan.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=0
keys=$(build/nudged --print-config-keys)
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
done <<< "$keys"
# docs/configuration.md: one table row a key, "| `name` |", under "## [section]".
documented=$(awk '/^## \[/ {s=substr($2, 2, length($2) - 2)} /^## [^[]/ {s=""}
                  s != "" && /^\| `[a-z_]+` \|/ {k=$2; gsub(/`/, "", k); print s "." k}' docs/configuration.md)
for key in $(comm -23 <(sort <<< "$keys") <(sort <<< "$documented")); do
  echo "docs/configuration.md does not document $key"; missing=1
done
for key in $(comm -13 <(sort <<< "$keys") <(sort <<< "$documented")); do
  echo "docs/configuration.md documents $key, which is not a key of the code"; missing=1
done
# Every "[section] key" the other pages name must be a key of the code
# (a page's "Not in this version" section names planned keys on purpose).
for page in README.md ARCHITECTURE.md docs/*.md; do
  named=$(awk '/^## / {skip = ($0 ~ /^## Not in this version/)} !skip' "$page" |
          grep -oE '\[(redis|http|smtp|triggers|delivery|log)\] `?[a-z_]+' | tr -d '[]`' | tr ' ' '.' | sort -u || true)
  for key in $(comm -13 <(sort <<< "$keys") <(sort <<< "$named")); do
    echo "$page names $key, which is not a key of the code"; missing=1
  done
done
[ $missing -eq 0 ] && echo "config doc check: every key is documented, and every documented key exists"
exit $missing
