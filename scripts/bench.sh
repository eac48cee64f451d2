#!/usr/bin/env bash
# `npm run bench`: native (criterion), numpy/scipy and wasm-in-Chromium benchmarks in one run;
# writes BENCHMARKS.md. Options are passed to scripts/bench.mjs (--quick, --builds, --reps,
# --skip-native, --skip-build, --out FILE, --wait-idle).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec node scripts/bench.mjs "$@"
