// End-to-end: model formats dropped on the lab page, in headless Chromium.
//   node tests/e2e/formats.mjs
// - A sharded PyTorch checkpoint (tests/fixtures/torch/sharded: two pytorch_model-*.bin shards +
//   pytorch_model.bin.index.json, written without torch by make_fixtures.py) through the folder
//   picker: one table in depth order whose α equal the native CLI's on the same folder.
// - Gemma 3 270M Q4_K_M (the GGUF in .cache, from tests/goldens/gguf/fetch_gemma.sh; skipped with a
//   note when absent): every 2-D tensor in the table with its GGUF type, and α equal to the
//   WeightWatcher golden (tests/goldens/gguf/gemma_ww_default.json: gguf-py-dequantized weights +
//   WeightWatcher 0.7.7) to 1e-5 relative on ≥ 97 % of the layers WeightWatcher keeps.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARDED = join(ROOT, 'tests', 'fixtures', 'torch', 'sharded');
const GEMMA_GOLDEN = join(ROOT, 'tests', 'goldens', 'gguf', 'gemma_ww_default.json');
const GEMMA = process.env.SPECTRALAB_GEMMA_GGUF ?? join(ROOT, '.cache', 'gemma3-270m', 'gemma-3-270m-q4_k_m.gguf');
const TIMEOUT = Number(process.env.SPECTRALAB_RUN_TIMEOUT_MS ?? 600_000);

/** The native CLI's CSV rows of `path` (the debug binary of `cargo test`, else `cargo run`). */
function nativeRows(path) {
  const bin = join(ROOT, 'target', 'debug', 'spectralab');
  const [cmd, args] = existsSync(bin) ? [bin, []] : ['cargo', ['run', '-q', '-p', 'spectralab-cli', '--']];
  const csv = execFileSync(cmd, [...args, 'analyze', path, '--format', 'csv'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [head, ...lines] = csv.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

async function drop(page, selector, files) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const t0 = Date.now();
  await page.setInputFiles(selector, files);
  await page.waitForFunction((n) => window.spectralabLab.runId > n && ['done', 'error', 'cancelled'].includes(window.spectralabLab.status), before, { timeout: TIMEOUT });
  const s = await page.evaluate(() => {
    const l = window.spectralabLab;
    return { status: l.status, error: l.error, done: l.done, total: l.total, rows: l.rows.map((r) => ({ name: r.name, alpha: r.alpha, dtype: r.dtype, status: r.status })) };
  });
  s.wallMs = Date.now() - t0;
  s.tableRows = await page.evaluate(() => document.querySelectorAll('#lab-tbody tr').length);
  return s;
}

const rel = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser);
  const { page } = tab;
  try {
    await page.goto(`${server.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabLab && ['done', 'error'].includes(window.spectralabLab.status), null, { timeout: TIMEOUT });

    // 1. Sharded PyTorch checkpoint, by folder.
    const t = await guarded('sharded pytorch_model.bin folder', () => drop(page, '#lab-folder', SHARDED));
    if (t) {
      const native = nativeRows(SHARDED);
      const names = t.rows.map((r) => r.name);
      info(`sharded .bin: ${t.done}/${t.total} layers in ${t.wallMs} ms: ${names.join(', ')}`);
      report('sharded .bin + index: one table of 4 layers in depth order', t.status === 'done' && t.tableRows === 4 && names.join() === native.map((r) => r.name).join(), JSON.stringify({ status: t.status, error: t.error, names }));
      const worst = Math.max(...native.map((n, i) => rel(t.rows[i]?.alpha, Number(n.alpha))));
      report('sharded .bin: α equals the native CLI (1e-9 relative)', worst <= 1e-9, String(worst));
    }

    // 2. Gemma 3 270M Q4_K_M GGUF.
    if (existsSync(GEMMA)) {
      const g = await guarded('Gemma GGUF', () => drop(page, '#lab-file', GEMMA));
      if (g) {
        const golden = JSON.parse(readFileSync(GEMMA_GOLDEN, 'utf8')).details.filter((d) => d.status === 'success' && Number.isFinite(d.alpha));
        const byName = new Map(g.rows.map((r) => [r.name.replace(/\.weight$/, ''), r]));
        const types = [...new Set(g.rows.map((r) => r.dtype))].sort();
        const close = golden.filter((d) => byName.has(d.name) && rel(byName.get(d.name).alpha, d.alpha) <= 1e-5);
        info(`Gemma: ${g.done}/${g.total} layers in ${(g.wallMs / 1000).toFixed(1)} s; types ${types.join(', ')}; α within 1e-5 on ${close.length}/${golden.length} WeightWatcher layers`);
        report('Gemma GGUF: the table lists every layer, no error rows', g.status === 'done' && g.done === g.total && g.tableRows === g.total && g.rows.every((r) => r.status !== 'error'), JSON.stringify({ status: g.status, error: g.error, done: g.done, total: g.total }));
        report('Gemma GGUF: the GGUF types are shown (Q4_K, Q5_0, Q6_K, Q8_0)', ['Q4_K', 'Q5_0', 'Q6_K', 'Q8_0'].every((x) => types.includes(x)), types.join(', '));
        report('Gemma GGUF: α equals the WeightWatcher reference to 1e-5 on ≥ 97 % of its layers', close.length >= 0.97 * golden.length, `${close.length}/${golden.length}`);
      }
    } else info(`Gemma GGUF not found at ${GEMMA} (bash tests/goldens/gguf/fetch_gemma.sh): its checks skipped`);

    const offenders = foreignRequests(tab.requests, server.url);
    report(`all ${tab.requests.length} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    report('no console errors or page errors', tab.errors.length === 0, tab.errors.join(' | '));
  } finally {
    await browser.close();
    await server.close();
  }
  finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
