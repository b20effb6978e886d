#!/usr/bin/env bash
# Installs the Debian packages nudged needs to build, test and demo.
# Idempotent: installs only what is missing. Uses sudo when not root.
set -euo pipefail
pkgs=(build-essential pkg-config libevent-dev libhiredis-dev libcurl4-openssl-dev
      libjansson-dev libssl-dev libinih-dev libjemalloc-dev zlib1g-dev redis-server redis-tools curl
      python3 python3-redis python3-aiosmtpd systemd clang clang-format valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
