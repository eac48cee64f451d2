#!/usr/bin/env bash
# Builds the wasm variants of crate/wasm into web/pkg/<variant>/ from one source:
#   baseline  stable, no +simd128 (our kernels scalar)
#   simd      stable, +simd128 (SIMD128 kernels, rustfft/gemm SIMD paths)
#   threads   nightly, +atomics,+bulk-memory,+mutable-globals,+simd128, build-std, shared memory,
#             wasm-bindgen-rayon (used only where the page is crossOriginIsolated)
#   simd-bench, baseline-bench  as simd/baseline plus the cargo feature `bench` (benchTransform,
#             for tests/bench/transform_bench.mjs); never shipped, not part of `all`
# Usage: scripts/build-wasm.sh [baseline|simd|threads|all]...   (default: all)
# Each variant has its own target dir (different RUSTFLAGS would otherwise rebuild everything).
# Skips a variant whose output is newer than every source file (set FORCE=1 to rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
NIGHTLY=${SPECTRALAB_NIGHTLY:-nightly}
variants=("$@"); [ ${#variants[@]} -eq 0 ] && variants=(all)
[ "${variants[0]}" = all ] && variants=(baseline simd threads)

command -v wasm-opt >/dev/null || { echo "wasm-opt missing: run npm ci (npm binaryen)"; exit 1; }
case "$(command -v wasm-opt)" in /usr/bin/*) echo "refusing Debian wasm-opt (breaks modules): run npm ci"; exit 1;; esac

newest_src=$(find Cargo.toml Cargo.lock crate -type f \( -name '*.rs' -o -name 'Cargo.toml' \) -newer /dev/null -printf '%T@\n' 2>/dev/null | sort -n | tail -1)

build_one() {
  local v=$1 base=${1%-bench} out="web/pkg/$1" tdir="target/wasm-${1%-bench}" flags feat=() toolchain=() extra=()
  [ "$v" != "$base" ] && feat=(--features bench)
  case $base in
    baseline) flags="" ;;
    simd) flags="-C target-feature=+simd128" ;;
    threads)
      flags="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 -C link-arg=--shared-memory -C link-arg=--max-memory=4294967296 -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
      feat=(--features threads); toolchain=("+$NIGHTLY"); extra=(-Z build-std=panic_abort,std) ;;
    *) echo "unknown variant $v"; exit 2 ;;
  esac
  if [ -z "${FORCE:-}" ] && [ -f "$out/spectralab_wasm_bg.wasm" ]; then
    local built; built=$(stat -c %Y "$out/spectralab_wasm_bg.wasm")
    if [ "${newest_src%.*}" -le "$built" ]; then echo "[build-wasm] $v: up to date"; return; fi
  fi
  echo "[build-wasm] $v: cargo build"
  local t0=$SECONDS
  RUSTFLAGS="$flags" CARGO_TARGET_DIR="$tdir" cargo "${toolchain[@]}" build --release --lib \
    -p spectralab-wasm --target wasm32-unknown-unknown "${feat[@]}" "${extra[@]}"
  rm -rf "$out"; mkdir -p "$out"
  wasm-bindgen --target web --out-dir "$out" "$tdir/wasm32-unknown-unknown/release/spectralab_wasm.wasm"
  local wopt=(-O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals)
  [ "$base" != baseline ] && wopt+=(--enable-simd)
  [ "$base" = threads ] && wopt+=(--enable-threads)
  # gemm/pulp carry runtime-gated simd128 functions even in the baseline build.
  [ "$base" = baseline ] && wopt+=(--enable-simd)
  wasm-opt "${wopt[@]}" "$out/spectralab_wasm_bg.wasm" -o "$out/spectralab_wasm_bg.wasm"
  echo "$v" > "$out/VARIANT"
  echo "[build-wasm] $v: done in $((SECONDS - t0)) s, $(stat -c %s "$out/spectralab_wasm_bg.wasm") bytes"
}

for v in "${variants[@]}"; do build_one "$v"; done

# The threaded module must import a *shared* memory, or threads silently don't work.
if [[ " ${variants[*]} " == *" threads "* ]]; then
  node "$ROOT/scripts/check-shared-memory.mjs" web/pkg/threads/spectralab_wasm_bg.wasm
fi
