#!/usr/bin/env bash
# Installs the Debian packages nudged needs to build, test and demo, and the
# npm packages of the client tests (tests/clients: Segment's and
# RudderStack's libraries, puppeteer-core for Debian's chromium), from the
# committed package-lock.json. Idempotent: installs only what is missing.
# Uses sudo when not root.
set -euo pipefail
pkgs=(build-essential pkg-config libevent-dev libhiredis-dev libcurl4-openssl-dev
      libjansson-dev libssl-dev libinih-dev libjemalloc-dev zlib1g-dev redis-server redis-tools curl
      python3 python3-redis python3-aiosmtpd systemd clang clang-format valgrind chromium wrk prometheus mandoc
      lua5.1)
# node and npm: any install will do (Debian's nodejs and npm when none).
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
clients="$(dirname "$0")/../tests/clients"
if [ ! -f "$clients/node_modules/.package-lock.json" ] ||
   [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; then
  echo "deps: npm ci in tests/clients"
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
fi
