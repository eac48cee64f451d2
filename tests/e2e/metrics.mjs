// End-to-end test of the metrics panel (issue 6) in headless Chromium.
//   node tests/e2e/metrics.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail"), exits 1 on any failure.
// Needs the wasm builds in web/pkg/ and the demo data in static/examples/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES = join(ROOT, 'static', 'examples');
const TOTAL_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 150_000;

/** Waits for the run started by `start` (renderCount grows, status leaves 'computing'). */
async function runAndWait(page, start) {
  const before = await page.evaluate(() => window.spectralabMetrics.runId);
  await start();
  await page.waitForFunction(
    (b) => {
      const s = window.spectralabMetrics;
      return s.runId > b && s.doneId === s.runId && s.status !== 'computing';
    },
    before,
    { timeout: RUN_TIMEOUT_MS },
  );
  return page.evaluate(() => {
    const s = window.spectralabMetrics;
    return {
      status: s.status,
      message: s.message,
      lastError: s.lastError,
      rows: s.rows,
      cols: s.cols,
      vendi: s.report?.vendi_cosine?.q1 ?? null,
      all: s.perClass?.all?.score ?? null,
      classes: (s.perClass?.classes ?? []).map((c) => ({ label: c.label, score: c.score, count: c.count })),
      tableRows: document.querySelectorAll('#metrics-table tbody tr').length,
      classRows: document.querySelectorAll('#metrics-classes tbody tr').length,
      spectrumSvg: Boolean(document.querySelector('#metrics-spectrum svg')),
      profileSvg: Boolean(document.querySelector('#metrics-profile svg')),
      profileSeries: s.perClass ? s.perClass.classes.filter((c) => c.profile).length + 1 : s.profile ? 1 : 0,
      timings: s.timings,
      charts: s.charts,
    };
  });
}

function checkPerClass(what, r) {
  if (!r) return;
  const worst = r.classes.reduce((a, c) => (c.score > a.score ? c : a), { score: -Infinity });
  report(
    `${what}: every single class (${r.classes.length}) is less diverse than the mix (${r.all?.toFixed(2)} vs max class ${worst.score?.toFixed(2)})`,
    r.classes.length > 1 && r.classes.every((c) => c.score < r.all),
    JSON.stringify(r.classes),
  );
}

async function main() {
  const server = await startServer({ isolation: true });
  const browser = await launchBrowser();
  const tab = await newPage(browser, { viewport: { width: 1300, height: 1000 } });
  const { page } = tab;
  const tmp = mkdtempSync(join(tmpdir(), 'spectralab-metrics-'));
  try {
    // SPECTRALAB_BUILD=simd|baseline|threads forces a build (?build=…).
    const query = process.env.SPECTRALAB_BUILD ? `?build=${process.env.SPECTRALAB_BUILD}` : '';
    await page.goto(`${server.url}/${query}#metrics`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.spectralabMetrics && window.spectralabMetrics.status === 'idle', null, { timeout: 60_000 });
    report('metrics panel is shown and its engine is ready', await page.isVisible('#metrics-panel'));

    // 1. Digits demo: table + both charts + per-class.
    const digits = await guarded('digits demo runs', () => runAndWait(page, () => page.click('.metrics-demo >> text=Digits demo')));
    if (digits) {
      info(`digits: Vendi ${digits.vendi?.toFixed(3)}, per class ${digits.classes.map((c) => c.score.toFixed(2)).join(' ')}; charts: ${digits.charts}; timings ${JSON.stringify(digits.timings)}`);
      report('digits demo: 1797 × 64 loaded, no error', digits.status === 'idle' && digits.rows === 1797 && digits.cols === 64, JSON.stringify(digits));
      report('digits demo: metrics table filled', digits.tableRows >= 20, `${digits.tableRows} rows`);
      report('digits demo: spectrum and q-profile charts drawn', digits.spectrumSvg && digits.profileSvg);
      report('digits demo: q-profile has one series per class plus the mix', digits.profileSeries === 11, String(digits.profileSeries));
      report('digits demo: per-class table has 10 classes + the mix', digits.classRows === 11, String(digits.classRows));
      report('digits: Vendi (cosine, q = 1) of the mix ≈ 4.68', Math.abs(digits.vendi - 4.68) < 0.05, String(digits.vendi));
      checkPerClass('digits', digits);
    }

    // 2. Abstracts via the file pickers (embeddings + labels).
    const abs = await guarded('abstracts files run', async () => {
      await page.setInputFiles('#metrics-labels', join(EXAMPLES, 'abstracts-labels.npy'));
      return runAndWait(page, () => page.setInputFiles('#metrics-file', join(EXAMPLES, 'abstracts-minilm.npy')));
    });
    if (abs) {
      info(`abstracts: Vendi ${abs.vendi?.toFixed(3)}, per class ${abs.classes.map((c) => c.score.toFixed(2)).join(' ')}`);
      report('abstracts file + labels: 197 × 384 with 5 classes', abs.status === 'idle' && abs.rows === 197 && abs.cols === 384 && abs.classes.length === 5, JSON.stringify({ ...abs, timings: undefined }));
      checkPerClass('abstracts', abs);
    }

    // 2b. Drag-and-drop of the same two files onto the panel.
    const dropped = await guarded('drop of embeddings + labels runs', async () => {
      const files = [
        { name: 'abstracts-minilm.npy', b64: readFileSync(join(EXAMPLES, 'abstracts-minilm.npy')).toString('base64') },
        { name: 'abstracts-labels.npy', b64: readFileSync(join(EXAMPLES, 'abstracts-labels.npy')).toString('base64') },
      ];
      const dt = await page.evaluateHandle((fs) => {
        const d = new DataTransfer();
        for (const f of fs) d.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
        return d;
      }, files);
      return runAndWait(page, () => page.dispatchEvent('#metrics-drop', 'drop', { dataTransfer: dt }));
    });
    if (dropped) report('dropped files: same result as the pickers', dropped.status === 'idle' && dropped.classes.length === 5 && Math.abs(dropped.vendi - (abs?.vendi ?? NaN)) < 1e-9, JSON.stringify({ ...dropped, timings: undefined }));

    // 3. A CSV with a header.
    const csvPath = join(tmp, 'points.csv');
    const lines = ['a,b,c'];
    for (let i = 0; i < 40; i++) lines.push([Math.cos(i), Math.sin(i * 1.7), (i % 5) - 2].map((v) => v.toFixed(6)).join(','));
    writeFileSync(csvPath, `${lines.join('\n')}\n`);
    const csv = await guarded('CSV file runs', async () => {
      await page.setInputFiles('#metrics-labels', []);
      // Clearing the labels re-runs the previous file: let that run end before the CSV one.
      await page.waitForFunction(() => {
        const s = window.spectralabMetrics;
        return s.doneId === s.runId && s.status !== 'computing';
      }, null, { timeout: RUN_TIMEOUT_MS });
      return runAndWait(page, () => page.setInputFiles('#metrics-file', csvPath));
    });
    if (csv) report('CSV with header: 40 × 3 table, 1 ≤ Vendi ≤ 3, no per-class', csv.status === 'idle' && csv.rows === 40 && csv.cols === 3 && csv.vendi >= 1 && csv.vendi <= 3 && csv.classRows === 0, JSON.stringify({ ...csv, timings: undefined }));

    // 4. A malformed .npy: readable error in the panel, no crash.
    const badPath = join(tmp, 'broken.npy');
    writeFileSync(badPath, Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), Buffer.from([0x40, 0]), Buffer.from("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 4), }")]));
    const bad = await guarded('malformed .npy handled', () => runAndWait(page, () => page.setInputFiles('#metrics-file', badPath)));
    if (bad) {
      const shown = await page.textContent('#metrics-status');
      info(`malformed .npy → ${shown}`);
      report('malformed .npy: readable error in the panel', bad.status === 'error' && /broken\.npy/.test(shown) && shown.length < 400, shown);
    }
    const after = await guarded('panel works after the error', () => runAndWait(page, () => page.setInputFiles('#metrics-file', csvPath)));
    if (after) report('panel recovers after an error', after.status === 'idle' && after.rows === 40);

    // 5. Cancel a large RBF job (exact RBF row + RBF per-class profiles on the digits).
    await guarded('cancel', async () => {
      await page.selectOption('#metrics-kernel', 'rbf');
      await page.check('#metrics-rbf-row');
      const before = await page.evaluate(() => window.spectralabMetrics.cancelCount);
      await page.click('.metrics-demo >> text=Digits demo');
      await page.waitForFunction(() => window.spectralabMetrics.status === 'computing' && /Computing|Per-class/.test(window.spectralabMetrics.message), null, { timeout: 30_000 });
      await page.waitForTimeout(300);
      const t = Date.now();
      await page.click('#metrics-cancel');
      await page.waitForFunction((n) => window.spectralabMetrics.cancelCount > n && window.spectralabMetrics.status === 'idle' && window.spectralabMetrics.doneId === window.spectralabMetrics.runId, before, { timeout: 20_000 });
      const ms = Date.now() - t;
      const s = await page.evaluate(() => ({ msg: window.spectralabMetrics.message, run: document.querySelector('#metrics-run').disabled, cancel: document.querySelector('#metrics-cancel').disabled }));
      report(`cancel of a running RBF job returns the panel to idle (${ms} ms)`, /Cancelled/.test(s.msg) && s.cancel, JSON.stringify(s));
      await page.selectOption('#metrics-kernel', 'cosine');
      await page.uncheck('#metrics-rbf-row');
      // A new file name: re-selecting the same file fires no change event.
      const csv2 = join(tmp, 'points-again.csv');
      writeFileSync(csv2, readFileSync(csvPath));
      const again = await runAndWait(page, () => page.setInputFiles('#metrics-file', csv2));
      report('the restarted engine computes again', again.status === 'idle' && again.rows === 40);
    });

    // 6. Per-tensor metrics of the model the lab loaded (its default example: MiniLM F16).
    await guarded('per-tensor metrics of the loaded model', async () => {
      await page.waitForFunction(() => !document.querySelector('#metrics-model-run').disabled, null, { timeout: 60_000 });
      const t = Date.now();
      const r = await runAndWait(page, () => page.click('#metrics-model-run'));
      const m = await page.evaluate(() => (window.spectralabMetrics.modelMetrics ?? []).map((x) => ({ name: x.name, erank: x.erank, stable: x.stableRank, error: x.error })));
      info(`model: ${m.length} tensors in ${Date.now() - t} ms; first ${JSON.stringify(m[0])}`);
      const sane = m.filter((x) => x.erank > 1 && x.stable >= 1 && x.erank <= 1536 && !x.error).length;
      report('loaded model: per-tensor erank and stable rank for every matrix tensor', r.status === 'idle' && m.length >= 30 && sane === m.length, `${sane}/${m.length} ${r.message}`);
      const rows = await page.$$eval('#metrics-model-table tbody tr', (x) => x.length);
      report('loaded model: table shows one row per tensor', rows === m.length, `${rows} rows`);
    });

    const offenders = foreignRequests(tab.requests, server.url);
    report(`all ${tab.requests.length} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    report('no console errors or page errors', tab.errors.length === 0, tab.errors.join(' | '));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await tab.close().catch(() => {});
    await browser.close().catch(() => {});
    await server.close();
  }
}

const timer = setTimeout(() => {
  console.log(`not ok - metrics e2e finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
timer.unref();

try {
  await main();
} catch (err) {
  report('metrics e2e', false, err?.stack ?? String(err));
}
finish();
