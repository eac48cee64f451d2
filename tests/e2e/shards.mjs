// End-to-end: a sharded checkpoint opened as one model in the lab, in headless Chromium.
//   node tests/e2e/shards.mjs [DIR]
// DIR (default: a CI-size model written to a temporary folder by scripts/make-big-model.py
// --scale ci) holds `sharded/` (2 BF16 shards + model.safetensors.index.json, LLaMA-like names
// over 12 layers) and `big-tensor.safetensors`. Checks: the folder picker gives one table in
// depth order; a missing shard is named in error rows while the rest runs; cancel in the middle
// of a model, then opening another, works; the engine's wasm memory stays bounded.
// With DIR = the full-size model (7.6 GiB) this is the benchmark of BENCHMARKS-session.md.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const given = process.argv[2];
const tmp = mkdtempSync(join(tmpdir(), 'spectralab-e2e-shards-'));
const DIR = given ?? join(tmp, 'model');
const RUN_TIMEOUT_MS = Number(process.env.SPECTRALAB_RUN_TIMEOUT_MS ?? 120_000);

async function waitRun(page, after) {
  await page.waitForFunction(
    (n) => {
      const l = window.spectralabLab;
      return l && l.runId > n && ['done', 'error', 'cancelled'].includes(l.status);
    },
    after,
    { timeout: RUN_TIMEOUT_MS },
  );
  return page.evaluate(() => {
    const l = window.spectralabLab;
    return {
      status: l.status,
      error: l.error,
      done: l.done,
      total: l.total,
      elapsedMs: l.elapsedMs,
      names: l.rows.map((r) => r.name),
      errors: l.rows.filter((r) => r.status === 'error').map((r) => `${r.name}: ${r.reason}`),
      source: document.querySelector('#lab-source').textContent,
    };
  });
}

async function openFolder(page, folder) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const t0 = Date.now();
  await page.setInputFiles('#lab-folder', folder);
  const s = await waitRun(page, before);
  s.wallMs = Date.now() - t0;
  return s;
}

/**
 * SHARDS_BENCH=1 with a full-size DIR: the benchmark of BENCHMARKS-session.md only (the sharded
 * folder, then the big F32 tensor, each in a fresh tab): wall time and the engine's wasm memory
 * high-water mark. Writes tests/artifacts/shards-bench.json.
 */
async function bench(browser, server, first) {
  const out = { dir: DIR, date: new Date().toISOString() };
  const mem = (page) => page.evaluate(() => window.spectralabLab.engine.call('memoryBytes'));
  const rows = (page) => page.evaluate(() => window.spectralabLab.rows.map((r) => ({ name: r.name, N: r.N, M: r.M, alpha: r.alpha, status: r.status, ms: r.ms ?? null })));
  // WeightWatcher's max_N gate (50000 rows) would skip the embedding and the LM head: lift it.
  const noMaxN = (page) => page.$eval('#lab-opt-maxn', (el) => {
    el.value = '1000000000';
  });
  await noMaxN(first);
  const s = await guarded('sharded folder (full size)', () => openFolder(first, join(DIR, 'sharded')));
  if (s) {
    out.sharded = { layers: s.done, total: s.total, errors: s.errors.length, wallMs: s.wallMs, wasmMemoryBytes: await mem(first), rows: await rows(first) };
    info(`sharded: ${s.done}/${s.total} layers in ${(s.wallMs / 1000).toFixed(1)} s, wasm memory ${(out.sharded.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB`);
    report('full-size sharded model: every layer (86, with the embedding and the LM head), no errors', s.status === 'done' && s.done === s.total && s.total === 86 && s.errors.length === 0, JSON.stringify({ status: s.status, done: s.done, total: s.total, errors: s.errors.slice(0, 3) }));
  }
  const { page } = await newPage(browser);
  await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
  await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: RUN_TIMEOUT_MS });
  await noMaxN(page);
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const t0 = Date.now();
  await page.setInputFiles('#lab-file', join(DIR, 'big-tensor.safetensors'));
  const b = await guarded('big F32 tensor', () => waitRun(page, before));
  if (b) {
    out.bigTensor = { layers: b.done, errors: b.errors, wallMs: Date.now() - t0, wasmMemoryBytes: await mem(page), rows: await rows(page) };
    info(`big tensor: ${(out.bigTensor.wallMs / 1000).toFixed(1)} s, wasm memory ${(out.bigTensor.wasmMemoryBytes / 2 ** 20).toFixed(1)} MiB`);
    report('the 2.5 GiB F32 tensor is analysed', b.status === 'done' && b.errors.length === 0, JSON.stringify({ status: b.status, errors: b.errors }));
  }
  mkdirSync(join(ROOT, 'tests', 'artifacts'), { recursive: true });
  writeFileSync(join(ROOT, 'tests', 'artifacts', 'shards-bench.json'), JSON.stringify(out, null, 2) + '\n');
}

/** The CI checks: one table in depth order, a missing shard, cancel then re-open. */
async function checks(page) {
  const s = await guarded('sharded folder opens', () => openFolder(page, join(DIR, 'sharded')));
  if (s) {
    info(`sharded model: ${s.done}/${s.total} layers in ${(s.wallMs / 1000).toFixed(1)} s (${s.source})`);
    const pos = (n) => s.names.indexOf(n);
    const ordered = pos('model.layers.2.self_attn.q_proj.weight') >= 0 && pos('model.layers.2.self_attn.q_proj.weight') < pos('model.layers.10.self_attn.q_proj.weight');
    const headLast = s.names.at(-1) === 'lm_head.weight';
    report('folder of 2 shards + index: one table, every planned layer, no errors', s.status === 'done' && s.done === s.total && s.total >= 84 && s.errors.length === 0, JSON.stringify({ ...s, names: s.names.length }));
    report('layers in network depth (layers.2 before layers.10, lm_head last)', ordered && headLast, s.names.slice(0, 4).join(', '));
    report('the header shows the model and its file count (2 shards + index)', /index\.json.*3 files/.test(s.source), s.source);
  }

  // A missing shard: error rows name it, the other shard still runs.
  const partial = join(tmp, 'partial');
  cpSync(join(DIR, 'sharded'), partial, { recursive: true });
  rmSync(join(partial, 'model-00002-of-00002.safetensors'));
  const p = await guarded('folder with a missing shard', () => openFolder(page, partial));
  if (p) {
    const named = p.errors.length > 0 && p.errors.every((e) => /model-00002-of-00002\.safetensors/.test(e));
    report('a missing shard: error rows name it, the rest is analysed', p.status === 'done' && named && p.done > p.errors.length, JSON.stringify({ errors: p.errors.slice(0, 2), done: p.done }));
  }

  // Cancel during a run, then open another model: it works.
  await guarded('cancel, then open another model', async () => {
    const before = await page.evaluate(() => window.spectralabLab.runId);
    await page.setInputFiles('#lab-folder', join(DIR, 'sharded'));
    await page.waitForFunction((n) => window.spectralabLab.runId > n && window.spectralabLab.done >= 1, before, { timeout: RUN_TIMEOUT_MS });
    await page.click('#lab-cancel');
    const c = await waitRun(page, before);
    report('cancel stops the run and keeps the finished rows', c.status === 'cancelled' && c.done >= 1, JSON.stringify({ status: c.status, done: c.done }));
    const again = await openFolder(page, join(DIR, 'sharded'));
    report('after cancel, opening the model again analyses it fully', again.status === 'done' && again.done === again.total && again.errors.length === 0, JSON.stringify({ status: again.status, done: again.done, total: again.total }));
  });
}

async function main() {
  if (!given) execFileSync('python3', [join(ROOT, 'scripts/make-big-model.py'), DIR, '--scale', 'ci'], { stdio: 'ignore' });
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  try {
    const { page } = await newPage(browser);
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: 60_000 });

    if (process.env.SHARDS_BENCH) await bench(browser, server, page);
    else await checks(page);
  } finally {
    await browser.close();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
