#!/usr/bin/env bash
# test_shape.sh: runs the test suite on a machine of another shape than the
# one it was developed on: one allowed PU (taskset), a 64 MiB RLIMIT_STACK
# and, when started as root, as the unprivileged user nobody in a copy of
# the tree that user owns. Tests that assume a PU count, memory headroom or
# root fail here instead of on a user's machine.
# Usage: scripts/test_shape.sh [ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
pu=$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')
work=$(mktemp -d /tmp/syncmark-shape.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Only the tracked files travel, as in a clean clone.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work"
chmod 755 "$work"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody:nogroup "$work"
  as_user=(runuser -u nobody --)
fi
echo "test_shape.sh: PU $pu only, RLIMIT_STACK 64 MiB," \
     "user $([ ${#as_user[@]} -gt 0 ] && echo nobody || id -un), in $work"
"${as_user[@]}" env HOME="$work" bash -c '
  set -euo pipefail
  cd "$1"; shift
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSYNCMARK_WERROR=ON >/dev/null
  cmake --build build -j"$(nproc)" >/dev/null
  ulimit -s 65536
  taskset -c "$0" ctest --test-dir build --output-on-failure "$@"
' "$pu" "$work" "$@"
