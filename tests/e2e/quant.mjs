// End-to-end test of the quantization-plan panel in headless Chromium.
//   node tests/e2e/quant.mjs
// The default example (MiniLM F16): quantize every 2-D weight with each llama.cpp type, plan at
// the default budget, move the budget, export the plan and the llama-quantize arguments, cancel
// a run and run again; then a GGUF file (tests/goldens/gguf/random_blocks.gguf) whose own type
// mix is shown beside the plan's. Writes tests/artifacts/quant.png (gitignored).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { download, foreignRequests, launchBrowser, newPage, showTab } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const GGUF = join(ROOT, 'tests', 'goldens', 'gguf', 'random_blocks.gguf');

const snapshot = (page) =>
  page.evaluate(() => {
    const q = window.spectralabQuant;
    const s = q.summary;
    return {
      status: q.status,
      error: q.error,
      measured: q.measured,
      total: q.total,
      measureMs: q.measureMs,
      lastPlanMs: q.lastPlanMs,
      bpw: s?.plan.bits_per_weight,
      err: s?.plan.model_rel_error,
      recipes: s?.recipes.map((r) => ({ name: r.recipe.name, bpw: r.recipe.bits_per_weight, err: r.recipe.model_rel_error, same: r.plan_at_same_size?.model_rel_error })),
      rows: document.querySelectorAll('#quant-layers tr').length,
      recipeRows: document.querySelectorAll('#quant-recipes tr').length,
      mix: document.querySelector('#quant-mix').textContent,
      chartPoints: document.querySelectorAll('#quant-chart svg circle, #quant-chart svg path, #quant-chart svg polyline').length,
      status_text: document.querySelector('#quant-status').textContent,
    };
  });

async function waitStatus(page, statuses, timeout = 120_000) {
  await page.waitForFunction((st) => st.includes(window.spectralabQuant?.status), statuses, { timeout });
  return snapshot(page);
}

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser);
  const { page } = tab;
  try {
    await page.goto(`${server.url}/#quant`, { waitUntil: 'domcontentloaded' });
    report('the quantization panel is shown', await page.isVisible('#quant-panel'));
    await guarded('the demo model reaches the panel', () => waitStatus(page, ['ready'], 60_000));

    // 1. The demo: measure and plan at the default 4.8 bpw.
    await page.click('#quant-run');
    const a = await guarded('plan of the demo model', () => waitStatus(page, ['planned', 'error']));
    if (a) {
      info(`MiniLM F16: ${a.total} layers × 9 types quantized in ${(a.measureMs / 1000).toFixed(1)} s; plan ${a.bpw?.toFixed(4)} bpw, error ${a.err?.toFixed(5)}`);
      report('36 layers planned, one table row each', a.status === 'planned' && a.total === 36 && a.rows === 36, JSON.stringify({ status: a.status, error: a.error, total: a.total, rows: a.rows }));
      report('the plan respects the 4.8 bpw budget', a.bpw <= 4.8 + 1e-9, String(a.bpw));
      report('recipes listed, the plan at each recipe’s size is no worse', a.recipeRows >= 5 && a.recipes.every((r) => r.same <= r.err + 1e-12), JSON.stringify(a.recipes));
      report('the file’s type mix is shown beside the plan’s', /F16×36/.test(a.mix) && /in the plan: /.test(a.mix), a.mix);
      report('the error-vs-size chart is drawn', a.chartPoints > 5, String(a.chartPoints));
    }

    // 2. A larger budget re-plans without re-quantizing: lower error, within the new budget.
    await page.evaluate(() => {
      const s = document.getElementById('quant-budget');
      s.value = '6.0';
      s.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const b = await guarded('re-plan at 6.0 bpw', async () => {
      await page.waitForFunction(() => window.spectralabQuant.summary?.plan.bits_per_weight > 4.8 + 1e-9, null, { timeout: 20_000 });
      return snapshot(page);
    });
    if (a && b) {
      info(`re-plan at 6.0 bpw: ${b.lastPlanMs?.toFixed(0)} ms; error ${b.err?.toFixed(5)}`);
      report('a larger budget gives a lower error within it', b.bpw <= 6.0 + 1e-9 && b.err < a.err, `${b.bpw} bpw, ${b.err} vs ${a.err}`);
    }

    // 3. Exports.
    const json = await guarded('plan JSON export', () => download(page, '#quant-export-json'));
    if (json) {
      const m = JSON.parse(json.text);
      report('plan JSON maps every tensor to a GGUF type', Object.keys(m).length === 36 && Object.values(m).every((t) => /^(I?Q\d)/.test(t)), json.text.slice(0, 120));
    }
    const args = await guarded('llama-quantize arguments export', () => download(page, '#quant-export-args'));
    if (args) report('36 --tensor-type arguments', (args.text.match(/--tensor-type [^=\s]+=[a-z0-9_]+/g) ?? []).length === 36, args.text.slice(0, 120));
    const csv = await guarded('table CSV export', () => download(page, '#quant-export-csv'));
    if (csv) report('CSV has a header and 36 rows', csv.text.trim().split('\n').length === 37 && csv.text.startsWith('tensor,rows,cols,file_type,type'), csv.text.split('\n')[0]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.locator('#quant-panel').screenshot({ path: join(ARTIFACTS, 'quant.png') });

    // 4. A GGUF file: its stored types are shown, the plan covers every tensor.
    await page.setInputFiles('#lab-file', GGUF);
    await guarded('GGUF reaches the panel', () => page.waitForFunction(() => window.spectralabQuant.status === 'ready' && /random_blocks/.test(window.spectralabQuant.source?.name ?? ''), null, { timeout: 60_000 }));
    await page.click('#quant-run');
    const g = await guarded('plan of the GGUF file', () => waitStatus(page, ['planned', 'error']));
    if (g) report('GGUF: 16 tensors, their stored types listed (Q4_K, Q6_K, …)', g.status === 'planned' && g.rows === 16 && /Q4_K×1/.test(g.mix) && /Q6_K×1/.test(g.mix), JSON.stringify({ status: g.status, error: g.error, rows: g.rows, mix: g.mix }));

    // 5. Cancel in the middle, then run again.
    await showTab(page, 'lab');
    await page.click('#lab-example');
    await showTab(page, 'quant');
    await guarded('the demo again', () => page.waitForFunction(() => window.spectralabQuant.status === 'ready' && !/random_blocks/.test(window.spectralabQuant.source?.name ?? ''), null, { timeout: 60_000 }));
    await page.click('#quant-run');
    await page.waitForFunction(() => window.spectralabQuant.measured >= 4, null, { timeout: 60_000 }).catch(() => {});
    await page.click('#quant-cancel');
    const c = await guarded('cancel', () => waitStatus(page, ['cancelled'], 10_000));
    if (c) report('cancel stops the measurement part-way', c.status === 'cancelled' && c.measured < 36, JSON.stringify({ measured: c.measured, text: c.status_text }));
    await page.click('#quant-run');
    const d = await guarded('run after cancel', () => waitStatus(page, ['planned', 'error']));
    if (d && a) report('after a cancel the plan is the same as before', d.status === 'planned' && Math.abs(d.err - b.err) <= 1e-12 * b.err, `${d.err} vs ${b?.err}`);

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
