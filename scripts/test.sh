#!/usr/bin/env bash
# test.sh: installs what is missing, builds syncmark with warnings as errors
# and runs every Criterion test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSYNCMARK_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
