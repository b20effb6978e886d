#!/usr/bin/env bash
# Loads every ```json block of README.md and docs/triggers.md as a trigger
# file of its own with `nudged check`, so the documentation cannot show a
# trigger nudged refuses. Ids must be unique within a page, as within a
# directory.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for page in README.md docs/triggers.md; do
  dir="$tmp/$(basename "$page" .md)"
  mkdir -p "$dir/triggers.d"
  n=$(awk -v d="$dir/triggers.d" '
    /^```json$/ {inb=1; n++; f=sprintf("%s/example-%02d.json", d, n); next}
    inb && /^```$/ {inb=0; close(f); next}
    inb {print > f}
    END {print n + 0}' "$page")
  printf '[triggers]\ndir = %s/triggers.d\n' "$dir" > "$dir/nudged.conf"
  if [ "$n" -eq 0 ]; then
    echo "$page: no trigger example found"; status=1
  elif ! out=$(build/nudged check -c "$dir/nudged.conf" 2>&1); then
    echo "$page: an example is refused by nudged check:"; echo "$out"; status=1
  else
    echo "$page: nudged check loads all $n trigger examples"
  fi
done
exit $status
