#!/usr/bin/env bash
# Packages the embeddable widgets into a self-contained dist/ that can be copied to any static
# host (no isolation headers needed; send Access-Control-Allow-Origin when pages of another
# origin embed it):
#   dist/spectralab-widgets.js      the one entry: <script type="module" src=".../spectralab-widgets.js">
#   dist/widgets/                   the custom elements (web/widgets/)
#   dist/engine/                    loader, client, worker (+ methods/)
#   dist/chart/interact.js, export.js, module.js  hover read-out, zoom, export, the chart wrappers
#   dist/pkg/{simd,baseline}/       the two single-threaded wasm builds, size-optimised (every
#                                   export: the compare/transform/tradeoff/vendi widgets load these)
#   dist/pkg/spectrum-{simd,baseline}/  the "spectrum" module (crate/wasm without its default
#                                   features): model session (safetensors/.npy/.npz), ESD
#                                   analysis and charts; what the esd/layers widgets and the
#                                   charts of every widget load
# The wasm comes from the `dist` cargo profile (LTO, one codegen unit, opt-level "s"; see the
# root Cargo.toml) and `wasm-opt -Oz`. Same target dirs as scripts/build-wasm.sh (other profile
# subdirectory), so the two never clobber each other. Skips a build that is newer than every
# source (FORCE=1 rebuilds). Usage: scripts/build-dist.sh [simd|baseline|spectrum-simd|spectrum-baseline]...
# (default: all four)
# DIST_WASM_FROM=web/pkg packages the release builds of scripts/build-wasm.sh instead of the
# size-optimised ones (the test suite does this: same code, no second pair of LTO builds); the
# spectrum module is then a copy of the full build (a superset: same behaviour, larger).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
variants=("$@"); [ ${#variants[@]} -eq 0 ] && variants=(simd baseline spectrum-simd spectrum-baseline)
OUT=dist

command -v wasm-opt >/dev/null || { echo "wasm-opt missing: run npm ci (npm binaryen)"; exit 1; }
case "$(command -v wasm-opt)" in /usr/bin/*) echo "refusing Debian wasm-opt (breaks modules): run npm ci"; exit 1;; esac

newest_src=$(find Cargo.toml Cargo.lock crate -type f \( -name '*.rs' -o -name 'Cargo.toml' \) -printf '%T@\n' | sort -n | tail -1)

build_wasm() {
  local v=$1 out="$OUT/pkg/$1" base=${1#spectrum-} flags="" feat=()
  [ "$base" = simd ] || [ "$base" = baseline ] || { echo "unknown variant $v (simd|baseline|spectrum-simd|spectrum-baseline)"; exit 2; }
  local tdir="target/wasm-$base"
  [ "$base" = simd ] && flags="-C target-feature=+simd128"
  # The spectrum module: same target dir (only crate/wasm is rebuilt with other features).
  [ "$v" != "$base" ] && feat=(--no-default-features)
  if [ -n "${DIST_WASM_FROM:-}" ]; then
    [ -f "$DIST_WASM_FROM/$base/spectralab_wasm_bg.wasm" ] || { echo "[build-dist] $DIST_WASM_FROM/$base missing: run scripts/build-wasm.sh $base"; exit 1; }
    rm -rf "$out"; mkdir -p "$out"
    cp "$DIST_WASM_FROM/$base/spectralab_wasm.js" "$DIST_WASM_FROM/$base/spectralab_wasm_bg.wasm" "$out/"
    echo "$v" > "$out/VARIANT"
    # Marks the copy: a later size-optimised run must not take it for its own up-to-date build.
    echo "$DIST_WASM_FROM/$base" > "$out/COPIED_FROM"
    echo "[build-dist] $v: copied from $DIST_WASM_FROM/$base (not size-optimised)"
    return
  fi
  if [ -z "${FORCE:-}" ] && [ -f "$out/spectralab_wasm_bg.wasm" ] && [ ! -f "$out/COPIED_FROM" ] && [ "${newest_src%.*}" -le "$(stat -c %Y "$out/spectralab_wasm_bg.wasm")" ]; then
    echo "[build-dist] $v: up to date"; return
  fi
  echo "[build-dist] $v: cargo build --profile dist"
  local t0=$SECONDS
  RUSTFLAGS="$flags" CARGO_TARGET_DIR="$tdir" cargo build --profile dist --lib \
    -p spectralab-wasm --target wasm32-unknown-unknown "${feat[@]}"
  rm -rf "$out"; mkdir -p "$out"
  wasm-bindgen --target web --no-typescript --out-dir "$out" "$tdir/wasm32-unknown-unknown/dist/spectralab_wasm.wasm"
  # gemm/pulp carry runtime-gated simd128 functions even in the baseline build: --enable-simd.
  wasm-opt -Oz --strip-debug --strip-producers --enable-simd --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$out/spectralab_wasm_bg.wasm" -o "$out/spectralab_wasm_bg.wasm"
  echo "$v" > "$out/VARIANT"
  echo "[build-dist] $v: done in $((SECONDS - t0)) s, $(stat -c %s "$out/spectralab_wasm_bg.wasm") bytes"
}

mkdir -p "$OUT"
for v in "${variants[@]}"; do build_wasm "$v"; done

# The JS: copied as is (plain ES modules, relative imports; URLs resolve against import.meta.url).
rm -rf "$OUT/widgets" "$OUT/engine" "$OUT/chart"
mkdir -p "$OUT/engine/methods" "$OUT/chart"
cp -r web/widgets "$OUT/widgets"
cp web/engine/loader.js web/engine/client.js web/engine/worker.js web/engine/hub.js "$OUT/engine/"
cp web/engine/methods/*.js "$OUT/engine/methods/"
cp web/chart/module.js web/chart/interact.js web/chart/export.js "$OUT/chart/"
# Smaller downloads without a bundler: drop whole-line comments (`// …` lines and `/** … */`
# blocks that start a line) from our modules; code and strings are untouched. The sources in
# web/ keep them. (No template literal in these modules has a line that starts with `//`.)
node -e '
  const fs = require("fs"), path = require("path");
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  for (const f of process.argv.slice(1).flatMap(walk).filter((f) => f.endsWith(".js"))) {
    const src = fs.readFileSync(f, "utf8");
    const out = src.replace(/^[ \t]*\/\*\*[\s\S]*?\*\/[ \t]*\n/gm, "").replace(/^[ \t]*\/\/.*\n/gm, "");
    fs.writeFileSync(f, out);
  }' "$OUT/widgets" "$OUT/engine" "$OUT/chart" "$OUT/pkg"
# The entry imports the shared main-thread modules directly (the browser fetches them in one
# round instead of one round per import level) and loads each widget's module only when its tag
# is on the page (now or later: a MutationObserver), so a page with one <spectral-esd> does not
# download the other widgets. widgets/spectralab-widgets.js imports every widget statically
# (`import 'spectralab/widgets'` for bundlers).
{
  echo "// Spectralab widgets (packaged build). Embed with:"
  echo "//   <script type=\"module\" src=\"https://your.host/path/spectralab-widgets.js\"></script>"
  for f in engine/loader.js engine/client.js chart/export.js chart/interact.js $(cd "$OUT" && find widgets/core -name '*.js' | sort); do
    echo "import './$f';"
  done
  echo "export { sharedEngine, spectrumWasm } from './widgets/core/engine.js';"
  echo "export { loadCharts } from './widgets/core/charts.js';"
  echo "const WIDGETS = {"
  for f in $(cd "$OUT" && find widgets -maxdepth 1 -name 'spectral-*.js' | sort); do
    t=$(basename "$f" .js); echo "  '$t': './$f',"
  done
  cat <<'JS'
};
const started = new Map();
/** Loads the module of `tag` (once); resolves when the element is defined. */
export function loadWidget(tag) {
  if (!WIDGETS[tag]) return Promise.reject(new Error(`unknown widget <${tag}>`));
  if (!started.has(tag)) started.set(tag, import(WIDGETS[tag]).then(() => customElements.whenDefined(tag)));
  return started.get(tag);
}
/** Loads every widget (e.g. for elements inside another shadow root, which the scan cannot see). */
export const loadAll = () => Promise.all(Object.keys(WIDGETS).map(loadWidget));
const scan = () => {
  for (const tag of Object.keys(WIDGETS)) if (!started.has(tag) && document.getElementsByTagName(tag).length) loadWidget(tag);
};
scan();
if (started.size < Object.keys(WIDGETS).length) {
  const mo = new MutationObserver(() => {
    scan();
    if (started.size === Object.keys(WIDGETS).length) mo.disconnect();
  });
  mo.observe(document.documentElement, { childList: true, subtree: true });
}
JS
} > "$OUT/spectralab-widgets.js"
cat > "$OUT/README.txt" <<'TXT'
Spectralab widgets, packaged build. Copy this folder to any static host and embed:

  <script type="module" src="https://your.host/spectralab/spectralab-widgets.js"></script>
  <spectral-esd src="model.safetensors" tensor="encoder.layer.0.attention.self.query.weight"></spectral-esd>

No COOP/COEP needed. If the page is on another origin, serve these files with
Access-Control-Allow-Origin (module scripts, the worker and the .wasm are fetched with CORS),
and .wasm as application/wasm.
TXT

# Sizes: what a page with widgets downloads (the JS it imports + the spectrum SIMD wasm), gzip -9
# each. Not counted: the baseline builds (only without SIMD128), the full build (only the
# tradeoff/transform/vendi widgets load it). scripts/bench-widgets.mjs measures what a browser really fetches.
w_file="$OUT/pkg/spectrum-simd/spectralab_wasm_bg.wasm"
mapfile -t js < <(find "$OUT" -name '*.js' -not -path "$OUT/pkg/*"; [ -f "$w_file" ] && echo "$OUT/pkg/spectrum-simd/spectralab_wasm.js")
js_raw=$(cat "${js[@]}" | wc -c)
js_gz=0; for f in "${js[@]}"; do js_gz=$(( js_gz + $(gzip -9c "$f" | wc -c) )); done
if [ -f "$w_file" ]; then
  w_raw=$(stat -c %s "$w_file")
  w_gz=$(gzip -9c "$w_file" | wc -c)
  echo "[build-dist] bundle: JS ${#js[@]} files $js_raw B ($js_gz B gzip) + spectrum SIMD wasm $w_raw B ($w_gz B gzip) = $(( js_gz + w_gz )) B gzip ($(( (js_gz + w_gz) / 1024 )) KiB)"
fi
