// The whole malformed-input corpus (tests/fixtures/malformed/corpus/manifest.json, written by
// make_corpus.py) through the Node API (web/engine/node.mjs, the SIMD wasm build): each entry is
// refused with an Error whose message names the problem, analysed with the stated error rows, or
// (nothing analysable) an empty report whose skip reasons name the problem;
// never a wasm trap; and the engine still analyses a good file afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeFile } from '../../web/engine/node.mjs';

const root = new URL('../../', import.meta.url).pathname;
const dir = join(root, 'tests/fixtures/malformed/corpus');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const f16 = join(root, 'static/examples/minilm-l6-encoder-f16.safetensors');

const TRAP = /unreachable|RuntimeError|memory access out of bounds|Maximum call stack/i;
const mentionsOne = (text, needles) => needles.some((n) => text.toLowerCase().includes(n.toLowerCase()));

/** Runs one entry; returns what went wrong ('' when it behaved as the manifest says). */
async function check(e) {
  const path = join(dir, e.file);
  let report;
  try {
    report = await analyzeFile(path);
  } catch (err) {
    const msg = String(err?.message ?? err);
    if (!(err instanceof Error)) return `threw a non-Error: ${msg}`;
    if (TRAP.test(msg) || err instanceof WebAssembly.RuntimeError) return `wasm trap: ${msg}`;
    if (e.expect !== 'error') return `rejected (${msg}), expected ${e.expect === 'rows' ? 'analysed rows' : 'an empty report with the skip reasons'}`;
    if (!mentionsOne(msg, e.message)) return `message "${msg}" mentions none of ${JSON.stringify(e.message)}`;
    return '';
  }
  const errors = report.layers.filter((l) => l.status === 'error');
  for (const l of errors) if (TRAP.test(l.reason ?? '')) return `wasm trap in row ${l.name}: ${l.reason}`;
  if (e.expect === 'nothing') {
    const problems = [];
    if (report.layers.length) problems.push(`${report.layers.length} rows, expected none`);
    if (!report.skipped.length) problems.push('no skipped entries');
    for (const s of report.skipped) if (!mentionsOne(s.skip ?? '', e.message)) problems.push(`${s.name}: skip "${s.skip}" mentions none of ${JSON.stringify(e.message)}`);
    return problems.join('; ');
  }
  if (e.expect === 'error') {
    return `analysed (${report.layers.length} rows, ${errors.length} errors, ${report.skipped.length} skipped), expected an Error`;
  }
  const problems = [];
  for (const name of e.error_rows) {
    const rows = name === '*' ? report.layers : report.layers.filter((l) => l.name === name);
    if (!rows.length) problems.push(`no row ${name}`);
    for (const r of rows) {
      if (r.status !== 'error') problems.push(`${r.name} is ${r.status}, expected an error row`);
      else if (!mentionsOne(r.reason ?? '', e.message)) problems.push(`${r.name}: reason "${r.reason}" mentions none of ${JSON.stringify(e.message)}`);
    }
  }
  for (const name of e.ok_rows) {
    const r = report.layers.find((l) => l.name === name);
    if (!r || r.status === 'error') problems.push(`${name} not analysed: ${JSON.stringify(r)}`);
  }
  return problems.join('; ');
}

test(`malformed corpus (${manifest.entries.length} entries): clear errors or error rows, no wasm trap`, async () => {
  assert.ok(manifest.entries.length >= 50);
  const failures = [];
  for (const e of manifest.entries) {
    const why = await check(e);
    if (why) failures.push(`${e.file}: ${why}`);
  }
  assert.deepEqual(failures, []);
});

test('the engine still analyses a good file after the whole corpus', async () => {
  const r = await analyzeFile(f16);
  assert.equal(r.layers.length, 36);
  assert.ok(r.layers.every((l) => l.status === 'success'));
});
