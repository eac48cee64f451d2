// Compares two folders of chart SVGs (the native CLI's and the npm CLI's --plot output) file by
// file: everything but polyline/path coordinates must be byte-identical (titles with α, axes,
// ticks, legends, bars); coordinate lists may differ only by rendering noise, at most one point
// and 1 px per point. The native and wasm eigen-solvers round differently in the last bits, and
// a dashed line's dash ends can then fall one pixel apart.
//   node tests/package/svg-same.mjs DIR_A DIR_B   → prints "identical N, within 1 px M"; exit 1 if not
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [a, b] = process.argv.slice(2);
const COORDS = /(points|d)="([^"]*)"/g;
const strip = (s) => s.replace(COORDS, '$1=""');
const lists = (s) => [...s.matchAll(COORDS)].map((m) => (m[2].match(/-?\d+(\.\d+)?/g) ?? []).map(Number));

function close(x, y) {
  if (Math.abs(x.length - y.length) > 2) return false; // one (x, y) point
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (Math.abs(x[i] - y[i]) > 1) return false;
  return true;
}

const files = readdirSync(a).sort();
const other = readdirSync(b).sort();
let identical = 0;
let near = 0;
const bad = [];
if (JSON.stringify(files) !== JSON.stringify(other)) bad.push(`file lists differ: ${files.length} vs ${other.length}`);
for (const f of files.filter((x) => other.includes(x))) {
  const x = readFileSync(join(a, f), 'utf8');
  const y = readFileSync(join(b, f), 'utf8');
  if (x === y) identical++;
  else if (strip(x) === strip(y) && lists(x).length === lists(y).length && lists(x).every((l, i) => close(l, lists(y)[i]))) near++;
  else bad.push(f);
}
console.log(`${files.length} files: identical ${identical}, within 1 px ${near}${bad.length ? `; differ: ${bad.join(', ')}` : ''}`);
process.exit(bad.length || !files.length ? 1 : 0);
