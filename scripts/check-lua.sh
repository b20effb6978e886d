#!/usr/bin/env bash
# Every script of daemon/lua/, composed as Redis gets it, must parse as the
# Lua 5.1 that Redis embeds (luac5.1 -p).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0 n=0
for f in daemon/lua/*.lua; do
  name=$(basename "$f" .lua)
  case $name in lib-*) continue ;; esac
  n=$((n + 1))
  if ! out=$(bash scripts/embed-lua.sh compose daemon/lua "$name" | luac5.1 -p - 2>&1); then
    echo "daemon/lua/$name.lua: $out"; status=1
  fi
done
[ $status -eq 0 ] && echo "lua: all $n scripts parse (luac5.1 -p)"
exit $status
