// Lists every #[wasm_bindgen] export of crate/wasm/src/*.rs with its length in lines (from the
// `pub fn` line to its closing brace, doc comments and attributes not counted) and fails when one
// is longer than the limit (DESIGN.md: bindings convert and call the core; issue 13: ≤ 15 lines).
//   node scripts/check-binding-lengths.mjs [--max 15] [--list] [DIR]
// Exports are free functions with a #[wasm_bindgen…] attribute and the `pub fn`s of an impl
// block that has one.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const maxAt = argv.indexOf('--max');
const MAX = maxAt >= 0 ? Number(argv[maxAt + 1]) : 15;
const LIST = argv.includes('--list');
const rest = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--max');
const DIR = rest[0] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'crate', 'wasm', 'src');

/** `[{file, name, line, length}]` of the exports in one Rust source text. */
export function exportsOf(text, file) {
  const lines = text.split('\n');
  const out = [];
  let implEnd = null; // closing line of the #[wasm_bindgen] impl block we are in
  const attrsAbove = (i) => {
    const attrs = [];
    for (let j = i - 1; j >= 0; j--) {
      const t = lines[j].trim();
      if (t.startsWith('///') || t.startsWith('//')) continue;
      if (t.startsWith('#[')) { attrs.push(t); continue; }
      if (t.endsWith(')]') && attrs.length === 0 && /^\w/.test(t) === false) { attrs.push(t); continue; }
      break;
    }
    return attrs;
  };
  const closing = (i) => {
    const indent = lines[i].match(/^\s*/)[0];
    for (let j = i; j < lines.length; j++) if (lines[j] === `${indent}}`) return j;
    return lines.length - 1;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (implEnd !== null && i > implEnd) implEnd = null;
    if (/^\s*impl\b/.test(line) && attrsAbove(i).some((a) => a.startsWith('#[wasm_bindgen'))) {
      implEnd = closing(i);
      continue;
    }
    const m = line.match(/^(\s*)pub fn (\w+)/);
    if (!m) continue;
    const inImpl = implEnd !== null && m[1].length === 4;
    const attributed = attrsAbove(i).some((a) => a.startsWith('#[wasm_bindgen'));
    if (!inImpl && !attributed) continue;
    const end = closing(i);
    out.push({ file, name: m[2], line: i + 1, length: end - i + 1 });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const all = readdirSync(DIR)
    .filter((f) => f.endsWith('.rs'))
    .sort()
    .flatMap((f) => exportsOf(readFileSync(join(DIR, f), 'utf8'), f));
  const long = all.filter((e) => e.length > MAX);
  if (LIST) for (const e of all) console.log(`${String(e.length).padStart(3)}  ${e.file}:${e.line}  ${e.name}`);
  console.log(`[binding-lengths] ${all.length} exports, longest ${Math.max(...all.map((e) => e.length))} lines, limit ${MAX}`);
  if (long.length) {
    for (const e of long) console.error(`  ${e.file}:${e.line} ${e.name}: ${e.length} lines > ${MAX}`);
    process.exit(1);
  }
}
