#!/usr/bin/env bash
# deps.sh: installs the Debian/Ubuntu packages syncmark needs, when missing.
# Uses sudo when not run as root. Safe to run again: installs nothing twice.
# Usage: scripts/deps.sh [lint|fleet] (lint: also what scripts/lint.sh and
# scripts/fuzz.sh run: cppcheck, clang-tidy, clang; fleet: also what
# scripts/fleet.sh runs on the controller: ansible-core).
set -euo pipefail

packages=(cmake gcc make pkg-config libhwloc-dev libcpuid-dev libcriterion-dev
          gnuplot-nox libsqlite3-dev sqlite3)
case "${1:-}" in
  "") ;;
  lint) packages+=(cppcheck clang-tidy clang) ;;
  fleet) packages+=(ansible-core) ;;
  *) echo "usage: scripts/deps.sh [lint|fleet] (got '$1')" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
# A freshly booted host of a fleet often runs unattended-upgrades: wait for
# dpkg's lock rather than fail (apt 1.9.11 and later; older apt ignores it).
lock_wait=(-o DPkg::Lock::Timeout=300)
# Optional: Concurrency Kit for the channel family's ck_ring variant, and
# perf for ctxswitch's perf_pipe cross-check, libpfm4 for --counters event
# names beyond perf's generic ones. Their absence (or a failed install) only
# makes those variants skip, or --counters refuse those names, saying why.
optional=(libck-dev linux-perf libpfm4-dev)
install_optional() {
  for p in "${optional[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
    command -v apt-get >/dev/null 2>&1 || return 0
    DEBIAN_FRONTEND=noninteractive ${sudo:+$sudo -n} apt-get install -y -qq \
      "${lock_wait[@]}" --no-install-recommends "$p" >/dev/null 2>&1 ||
      echo "deps.sh: optional package $p is not available; skipping it" >&2
  done
}
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
if [ ${#missing[@]} -eq 0 ]; then
  install_optional
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps.sh: missing packages ${missing[*]}, and apt-get is not available;" \
       "install them with your package manager" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${lock_wait[@]}" \
  --no-install-recommends "${missing[@]}" >/dev/null
install_optional
