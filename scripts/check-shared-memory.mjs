// Fails unless the given wasm module imports a shared memory (the threaded build's contract).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const mod = new WebAssembly.Module(readFileSync(file));
const mems = WebAssembly.Module.imports(mod).filter((i) => i.kind === 'memory');
// The JS API does not expose `shared`; parse the import section for the memory limits flag.
const bytes = readFileSync(file);
let shared = null;
let p = 8;
const leb = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
const str = () => { const n = leb(); const t = bytes.subarray(p, p + n).toString(); p += n; return t; };
while (p < bytes.length) {
  const id = bytes[p++]; const size = leb(); const end = p + size;
  if (id === 2) {
    const count = leb();
    for (let i = 0; i < count; i++) {
      str(); str(); const kind = bytes[p++];
      if (kind === 0) leb();
      else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); }
      else if (kind === 2) { const flags = leb(); leb(); if (flags & 1) leb(); shared = (flags & 2) !== 0; }
      else if (kind === 3) { p++; p++; }
      else if (kind === 4) { p++; leb(); }
    }
  }
  p = end;
}
if (mems.length !== 1 || shared !== true) {
  console.error(`[check-shared-memory] ${file}: memory imports=${mems.length}, shared=${shared}: threads would not work`);
  process.exit(1);
}
console.log(`[check-shared-memory] ${file}: imports one shared memory — ok`);
