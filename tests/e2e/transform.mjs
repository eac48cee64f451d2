// End-to-end test of the transform explorer (issue 8) in headless Chromium.
//   node tests/e2e/transform.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail"), exits 1 on any failure.
// Needs the wasm builds in web/pkg/ and the lab's default model in static/examples/.
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const TOTAL_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 120_000;

/** A snapshot of the panel (state + what is drawn). */
function snapshot(page) {
  return page.evaluate(() => {
    const s = window.spectralabTransform;
    const svgPaths = (id) => {
      const svg = document.querySelector(`#${id} svg`);
      return svg ? svg.querySelectorAll('path, polyline, circle').length : 0;
    };
    const arr = (a) => (a ? Array.from(a) : null);
    const c = s.result?.curves;
    return {
      status: s.status,
      message: s.message,
      lastError: s.lastError,
      kind: s.kind,
      source: s.source,
      n: s.result?.signal?.length ?? 0,
      spectrumLen: s.result?.magnitude?.length ?? 0,
      curves: c ? { fft: arr(c.fft), dct: arr(c.dct), wht: arr(c.wht), svd: arr(c.svd) } : null,
      table: s.table,
      svg: { signal: svgPaths('transform-signal-chart'), spectrum: svgPaths('transform-spectrum-chart'), compaction: svgPaths('transform-compaction-chart') },
      spectrumTitle: document.querySelector('#transform-spectrum-chart svg')?.textContent ?? '',
      tableRows: document.querySelectorAll('#transform-table tbody tr').length,
      renderCount: s.renderCount,
      charts: s.charts,
      timings: s.timings,
    };
  });
}

/** Runs `start` and waits for the run it causes to finish. */
async function runAndWait(page, start) {
  const before = await page.evaluate(() => window.spectralabTransform.runId);
  await start();
  await page.waitForFunction(
    (b) => {
      const s = window.spectralabTransform;
      return s.runId > b && s.doneId === s.runId && s.status !== 'computing';
    },
    before,
    { timeout: RUN_TIMEOUT_MS },
  );
  // Charts may arrive after the first run (the chart module loads in parallel).
  await page.waitForFunction(() => window.spectralabTransform.charts !== null, null, { timeout: 30_000 });
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
  return snapshot(page);
}

const monotone = (c) => c.every((v, i) => i === 0 || v >= c[i - 1] - 1e-12);
const endsAtOne = (c) => Math.abs(c[c.length - 1] - 1) < 1e-9;
function checkCurves(what, curves, keys) {
  for (const k of keys) {
    const c = curves?.[k];
    report(`${what}: ${k.toUpperCase()} compaction curve is non-decreasing and ends at 1`, Array.isArray(c) && c.length > 0 && monotone(c) && endsAtOne(c), c ? `len ${c.length}, last ${c[c.length - 1]}` : 'missing');
  }
}

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser, { viewport: { width: 1300, height: 1000 } });
  const { page } = tab;
  try {
    const query = process.env.SPECTRALAB_BUILD ? `?build=${process.env.SPECTRALAB_BUILD}` : '';
    await page.goto(`${server.url}/${query}#transform`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabTransform && window.spectralabTransform.doneId > 0 && window.spectralabTransform.status !== 'computing', null, { timeout: 90_000 });
    await page.waitForFunction(() => window.spectralabTransform.charts !== null, null, { timeout: 30_000 });
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => ok())));
    report('transform panel is shown', await page.isVisible('#transform-panel'));

    // 1. The default signal (chirp, n = 4096, FFT) draws the three charts.
    const first = await snapshot(page);
    info(`default: ${first.message}; charts ${first.charts}; timings ${JSON.stringify(first.timings)}`);
    report('default chirp: no error, 4096 samples, 2049 FFT bins', first.status === 'idle' && first.n === 4096 && first.spectrumLen === 2049, JSON.stringify({ ...first, curves: undefined }));
    report('default chirp: signal, spectrum and compaction charts drawn (SVG with data)', first.svg.signal > 0 && first.svg.spectrum > 0 && first.svg.compaction > 0, JSON.stringify(first.svg));
    checkCurves('chirp', first.curves, ['fft', 'dct', 'wht']);
    report('chirp: the 90/99% table has FFT, DCT-II and WHT rows', first.tableRows === 3 && first.table.every((r) => r.k90 >= 1 && r.k99 >= r.k90), JSON.stringify(first.table));

    // 2. Switching the transform re-renders.
    for (const kind of ['dct', 'wht-sequency', 'wht-natural', 'rht']) {
      const r = await guarded(`switch to ${kind}`, () => runAndWait(page, () => page.selectOption('#transform-kind', kind)));
      if (r) report(`transform ${kind}: spectrum re-rendered (${r.spectrumLen} coefficients)`, r.status === 'idle' && r.kind === kind && r.spectrumLen === 4096 && r.svg.spectrum > 0 && r.renderCount > first.renderCount, JSON.stringify({ ...r, curves: undefined }));
    }

    // 3. Every test signal; a square wave is sparse in the Walsh basis.
    await page.selectOption('#transform-kind', 'fft');
    for (const signal of ['square', 'noise', 'tones']) {
      const r = await guarded(`signal ${signal}`, () => runAndWait(page, () => page.selectOption('#transform-signal', signal)));
      if (!r) continue;
      report(`signal ${signal}: rendered, curves valid`, r.status === 'idle' && r.source?.signal === signal && r.svg.signal > 0 && r.svg.compaction > 0 && ['fft', 'dct', 'wht'].every((k) => monotone(r.curves[k]) && endsAtOne(r.curves[k])), JSON.stringify({ ...r, curves: undefined }));
      if (signal === 'square') {
        const k = Object.fromEntries(r.table.map((t) => [t.transform, t.k99]));
        report(`square wave: WHT needs fewer coefficients for 99% than the FFT (${k.WHT} vs ${k.FFT})`, k.WHT < k.FFT, JSON.stringify(r.table));
      }
      if (signal === 'tones') {
        const k = Object.fromEntries(r.table.map((t) => [t.transform, t.k90]));
        report(`three tones: the FFT needs at most 8 coefficients for 90% (${k.FFT})`, k.FFT <= 8, JSON.stringify(r.table));
      }
    }

    // 4. The lab's model: a row spectrum and the whole matrix (SVD dominates).
    await guarded('model tensor', async () => {
      await page.waitForFunction(() => !document.querySelector('#transform-signal option[value="tensor"]').disabled, null, { timeout: 90_000 });
      const row = await runAndWait(page, () => page.selectOption('#transform-signal', 'tensor'));
      info(`tensor row: ${row.message}`);
      report('model tensor row: spectrum and curves render', row.status === 'idle' && row.source?.part === 'row' && row.n > 0 && row.svg.spectrum > 0 && row.svg.compaction > 0, JSON.stringify({ ...row, curves: undefined }));
      checkCurves('tensor row', row.curves, ['fft', 'dct', 'wht']);
      const col = await runAndWait(page, () => page.selectOption('#transform-part', 'col'));
      report('model tensor column: renders', col.status === 'idle' && col.source?.part === 'col' && col.svg.spectrum > 0, JSON.stringify({ ...col, curves: undefined }));
      const m = await runAndWait(page, () => page.selectOption('#transform-part', 'matrix'));
      info(`tensor matrix: ${m.message}; timings ${JSON.stringify(m.timings)}`);
      report('whole matrix: renders with an SVD curve', m.status === 'idle' && m.source?.part === 'matrix' && m.svg.compaction > 0 && m.curves?.svd?.length > 0, JSON.stringify({ ...m, curves: undefined }));
      checkCurves('whole matrix', m.curves, ['fft', 'dct', 'wht', 'svd']);
      if (m.curves?.svd?.length) {
        // Curves of different lengths: compare at the same fraction k/len of their coefficients.
        const at = (c, f) => c[Math.max(0, Math.ceil(f * c.length) - 1)];
        const fracs = [0.01, 0.02, 0.05, 0.1, 0.2];
        const worst = fracs.map((f) => ({ f, svd: at(m.curves.svd, f), best: Math.max(at(m.curves.fft, f), at(m.curves.dct, f), at(m.curves.wht, f)) }));
        report('whole matrix: the SVD curve dominates FFT/DCT/WHT at small k/n', worst.every((w) => w.svd >= w.best - 1e-9), JSON.stringify(worst));
        // Eckart–Young: k singular values hold at least the energy of any k coefficients of a basis.
        const r = m.curves.svd.length;
        const lose = [];
        for (let i = 0; i < r; i++) if (m.curves.svd[i] < Math.max(m.curves.fft[i], m.curves.dct[i], m.curves.wht[i]) - 1e-9) lose.push(i + 1);
        report(`whole matrix: the SVD curve ≥ FFT/DCT/WHT at every k ≤ ${r}`, lose.length === 0, `loses at k = ${lose.slice(0, 10).join(', ')}`);
        const k = Object.fromEntries(m.table.map((t) => [t.transform, t.k90]));
        info(`whole matrix k90: ${JSON.stringify(k)}`);
      }
      const bad = await runAndWait(page, async () => {
        await page.selectOption('#transform-part', 'row');
        await page.fill('#transform-index', '999999');
        await page.dispatchEvent('#transform-index', 'change');
      });
      report('an out-of-range row index shows a readable error', bad.status === 'error' && /index/.test(bad.message) && bad.message.length < 300, bad.message);
      const ok = await runAndWait(page, async () => {
        await page.fill('#transform-index', '3');
        await page.dispatchEvent('#transform-index', 'change');
      });
      report('the panel recovers after the error', ok.status === 'idle' && ok.source?.index === 3, ok.message);
    });

    // 5. The worker contract of the docs widget.
    await guarded('transformSpectrum contract', async () => {
      const r = await page.evaluate(async () => {
        const { createEngine } = await import('./web/engine/client.js');
        const e = createEngine({ build: 'simd' });
        const { result } = await e.request('transformSpectrum', [{ signal: 'chirp', n: 4096, kind: 'dct' }]);
        const out = { index: result.index.constructor.name, magnitude: result.magnitude.constructor.name, signal: result.signal.constructor.name, n: result.magnitude.length };
        let err = '';
        try {
          await e.request('transformSpectrum', [{ signal: 'chirp', n: 4096, kind: 'nope' }]);
        } catch (x) {
          err = x.message;
        }
        e.dispose?.();
        return { ...out, err };
      });
      report('transformSpectrum → {index, magnitude, signal} Float64Arrays', r.index === 'Float64Array' && r.magnitude === 'Float64Array' && r.signal === 'Float64Array' && r.n === 4096, JSON.stringify(r));
      report('transformSpectrum: an unknown kind is a readable error', /kind: unknown `nope`/.test(r.err), r.err);
    });

    const offenders = foreignRequests(tab.requests, server.url);
    report(`all ${tab.requests.length} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    report('no console errors or page errors', tab.errors.length === 0, tab.errors.join(' | '));
  } finally {
    await tab.close().catch(() => {});
    await browser.close().catch(() => {});
    await server.close();
  }
}

const timer = setTimeout(() => {
  console.log(`not ok - transform e2e finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
timer.unref();

try {
  await main();
} catch (err) {
  report('transform e2e', false, err?.stack ?? String(err));
}
finish();
