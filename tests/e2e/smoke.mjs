// End-to-end smoke test of the lab page in headless Chromium (Debian's, via playwright-core).
//   node tests/e2e/smoke.mjs
// Prints one line per check ("ok - …" / "not ok - …: detail"), exits 1 on any failure.
// Needs the three wasm builds in web/pkg/ (bash scripts/build-wasm.sh all).
// Writes tests/artifacts/lab-demo.png (gitignored).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { foreignRequests, launchBrowser, newPage } from './browser.mjs';
import { finish, guarded, info, report } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const TOTAL_TIMEOUT_MS = 150_000;
const LOAD_TIMEOUT_MS = 30_000;

// Demo defaults of the page and the fixed matrix compared across builds.
const DEMO = { rows: 2000, cols: 500, bins: 50 };
const MP_UPPER = (1 + Math.sqrt(DEMO.cols / DEMO.rows)) ** 2; // 2.25
const GRAM = { rows: 600, cols: 150, sigma: 1, seed: 42 };
// Large enough to still be running when Cancel is pressed (≤ 2^24 entries, demoSpectrum's limit).
const BIG = { rows: 5000, cols: 3000 };

/** Runs `fn`; a thrown error is a failed check named `name`. Returns fn's value or undefined. */

/** Opens the lab at `url` and waits until the demo rendered (or the page reported an error). */
async function openLab(browser, url) {
  const tab = await newPage(browser);
  // The random-matrix demo is the page's last tab (web/app/tabs.js): open the page on it.
  await tab.page.goto(`${url}#demo`, { waitUntil: 'domcontentloaded' });
  await tab.page.waitForFunction(
    () => window.spectralabReady === true || window.spectralabState?.status === 'error',
    null,
    { timeout: LOAD_TIMEOUT_MS },
  );
  tab.state = await tab.page.evaluate(() => window.spectralabState);
  return tab;
}

/** Chart structure: number of histogram bars and whether the MP curve has a path. */
const chartShape = (page) =>
  page.evaluate(() => {
    const svg = document.querySelector('#demo-chart svg');
    const d = svg?.querySelector('path.mp-curve')?.getAttribute('d') ?? '';
    return {
      svg: Boolean(svg),
      bars: svg ? svg.querySelectorAll('rect.esd-bar').length : 0,
      mpPoints: (d.match(/[ML]/g) ?? []).length,
      xTicks: svg ? svg.querySelectorAll('.axis-x text').length : 0,
      yTicks: svg ? svg.querySelectorAll('.axis-y text').length : 0,
      legend: Boolean(svg?.querySelector('.legend')),
      statsRows: document.querySelectorAll('#demo-stats tr').length,
      status: document.querySelector('#engine-status')?.textContent ?? '',
    };
  });

function checkRendered(label, tab, shape) {
  report(`${label}: demo rendered without errors`, tab.state.status === 'idle', `status=${tab.state.status} ${tab.state.lastError ?? ''}`);
  report(
    `${label}: SVG has ${DEMO.bins} bars, the MP curve, axes with ticks and a legend`,
    shape.svg && shape.bars === DEMO.bins && shape.mpPoints > 100 && shape.xTicks >= 4 && shape.yTicks >= 4 && shape.legend,
    JSON.stringify(shape),
  );
}

/** Eigenvalues of the fixed seeded matrix, computed in the page's engine (parallel and not). */
const gramInPage = (page, g) =>
  page.evaluate(async ({ rows, cols, sigma, seed }) => {
    const { engine } = window.spectralab;
    const m = await engine.call('gaussianMatrixF32', rows, cols, sigma, BigInt(seed));
    const par = await engine.call('gramEigenvaluesF32', m, rows, cols, true);
    const seq = await engine.call('gramEigenvaluesF32', m, rows, cols, false);
    const a = new Uint8Array(par.buffer);
    const b = new Uint8Array(seq.buffer);
    const identical = a.length === b.length && a.every((v, i) => v === b[i]);
    return { par: Array.from(par), identical, matrixLength: m.length, isF64: par instanceof Float64Array };
  }, g);

/** max |a − b| / max|a| over two eigenvalue lists. */
function relDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  const scale = Math.max(...a.map(Math.abs));
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

async function main() {
  const isolated = await startServer({ isolation: true });
  const plain = await startServer({ isolation: false });
  const browser = await launchBrowser();
  const tabs = [];
  const wasmSeen = new Set();
  try {
    // a. isolated page → threads build, full thread pool, demo close to Marchenko–Pastur.
    const thr = await guarded('isolated page loads', () => openLab(browser, `${isolated.url}/`));
    let thrGram = null;
    if (thr) {
      tabs.push(['isolated', isolated.url, thr]);
      const s = thr.state;
      info(`isolated: build=${s.build} threadCount=${s.threadCount} hardwareConcurrency=${s.hardwareConcurrency} demo ${s.computeMs?.toFixed(0)} ms`);
      report('isolated page: crossOriginIsolated and the threads build loaded', s.crossOriginIsolated && s.build === 'threads', `build=${s.build} isolated=${s.crossOriginIsolated}`);
      const hc = s.hardwareConcurrency;
      report(
        `threads build: thread pool = hardwareConcurrency (${hc})${hc >= 2 ? ', ≥ 2' : ''}`,
        s.threadCount === hc && (hc < 2 || s.threadCount >= 2),
        `threadCount=${s.threadCount}`,
      );
      const shape = await chartShape(thr.page);
      checkRendered('threads', thr, shape);
      report('status line names the build and thread count', shape.status.includes(`threads ×${s.threadCount}`), shape.status);
      report(
        `λ_max within 5% of the MP upper bound ${MP_UPPER}`,
        Math.abs(s.lambdaMax / MP_UPPER - 1) <= 0.05 && Math.abs(s.mpUpper - MP_UPPER) < 1e-12,
        `λ_max=${s.lambdaMax} mpUpper=${s.mpUpper}`,
      );
      // The MP density the engine returns should be a probability density (area 1 on [λ₋, λ₊]).
      const area = await guarded('MP density has unit area', () =>
        thr.page.evaluate(async ({ rows, cols, bins }) => {
          const s = await window.spectralab.engine.call('demoSpectrum', rows, cols, bins, 1n);
          let a = 0;
          for (let i = 1; i < s.mpX.length; i++) a += 0.5 * (s.mpDensity[i] + s.mpDensity[i - 1]) * (s.mpX[i] - s.mpX[i - 1]);
          const counted = s.counts.reduce((x, y) => x + y, 0);
          return { a, counted, n: s.eigenvalues.length, typed: s.eigenvalues instanceof Float64Array };
        }, DEMO),
      );
      if (area) {
        report('MP density has unit area; histogram counts every eigenvalue', Math.abs(area.a - 1) < 0.01 && area.counted === area.n, JSON.stringify(area));
        report('demoSpectrum arrays arrive as Float64Array (transferred)', area.typed);
      }

      // b (threads part): parallel vs sequential Gram must be bit-identical.
      thrGram = await guarded('threads: gram eigenvalues', () => gramInPage(thr.page, GRAM));
      if (thrGram) {
        report('threads: parallel=true and parallel=false give bit-identical eigenvalues', thrGram.identical && thrGram.isF64);
      }

      // f. screenshot of the rendered demo.
      await guarded('screenshot', async () => {
        mkdirSync(ARTIFACTS, { recursive: true });
        const file = join(ARTIFACTS, 'lab-demo.png');
        await thr.page.screenshot({ path: file, fullPage: true });
        report(`screenshot written to ${file.slice(ROOT.length + 1)}`, true);
      });

      // e. Cancel during a large demo, then Recompute.
      await guarded('cancel', async () => {
        const { page } = thr;
        const before = await page.evaluate(() => window.spectralabState.renderCount);
        await page.fill('#demo-rows', String(BIG.rows));
        await page.fill('#demo-cols', String(BIG.cols));
        await page.click('#demo-run');
        await page.waitForFunction(() => window.spectralabState.status === 'computing', null, { timeout: 5000 });
        await page.waitForTimeout(400);
        // The page stays responsive while the worker computes.
        const tp = Date.now();
        await page.evaluate(() => document.title);
        const pingMs = Date.now() - tp;
        const stillComputing = await page.evaluate(() => window.spectralabState.status === 'computing');
        const tc = Date.now();
        await page.click('#demo-cancel');
        await page.waitForFunction(() => window.spectralabState.status !== 'computing', null, { timeout: 5000 });
        const cancelWallMs = Date.now() - tc;
        const st = await page.evaluate(() => window.spectralabState);
        report(`main thread responsive during a ${BIG.rows}×${BIG.cols} demo`, pingMs < 500 && stillComputing, `ping ${pingMs} ms, computing=${stillComputing}`);
        report(
          'Cancel rejects the pending call with "cancelled" quickly',
          st.status === 'cancelled' && st.lastError === 'cancelled' && cancelWallMs < 2000 && st.cancelLatencyMs < 100,
          `status=${st.status} error=${st.lastError} wall=${cancelWallMs} ms in-page=${st.cancelLatencyMs?.toFixed(1)} ms`,
        );
        await page.waitForFunction(() => !document.querySelector('#demo-run').disabled, null, { timeout: 15000 });
        await page.fill('#demo-rows', String(DEMO.rows));
        await page.fill('#demo-cols', String(DEMO.cols));
        await page.click('#demo-run');
        await page.waitForFunction((n) => window.spectralabState.renderCount > n && window.spectralabState.status === 'idle', before, { timeout: LOAD_TIMEOUT_MS });
        const after = await page.evaluate(() => window.spectralabState);
        const info2 = await page.evaluate(() => window.spectralab.engine.ready);
        report(
          'Recompute after Cancel works on a fresh worker (same build and thread count)',
          after.lambdaMax === st.lambdaMax && info2.build === 'threads' && info2.threadCount === thr.state.threadCount,
          `λ_max ${after.lambdaMax} vs ${st.lambdaMax}, build=${info2.build}, threads=${info2.threadCount}`,
        );
      });

      // Errors from wasm reach the caller instead of hanging the call.
      await guarded('errors', async () => {
        const r = await thr.page.evaluate(async () => {
          const e = window.spectralab.engine;
          const msg = async (p) => p.then(() => null, (err) => `${err.name}: ${err.message}`);
          return {
            tooBig: await msg(e.call('demoSpectrum', 6000, 3000, 50, 1n)),
            badShape: await msg(e.call('gramEigenvaluesF32', new Float32Array(5), 2, 3, true)),
            unknown: await msg(e.call('call', 'noSuchExport')),
            after: (await e.call('buildInfo')).build,
          };
        });
        report(
          'wasm errors reject the call with a readable message; the engine keeps working',
          /2\^24/.test(r.tooBig ?? '') && /rows × cols/.test(r.badShape ?? '') && /noSuchExport/.test(r.unknown ?? '') && r.after === 'threads',
          JSON.stringify(r),
        );
      });
    }

    // b. ?build=simd and ?build=baseline on the isolated server; Gram eigenvalues agree.
    for (const build of ['simd', 'baseline']) {
      const tab = await guarded(`?build=${build} loads`, () => openLab(browser, `${isolated.url}/?build=${build}`));
      if (!tab) continue;
      tabs.push([`?build=${build}`, isolated.url, tab]);
      info(`?build=${build}: build=${tab.state.build} threadCount=${tab.state.threadCount} demo ${tab.state.computeMs?.toFixed(0)} ms`);
      report(`?build=${build} loads the ${build} build`, tab.state.build === build && tab.state.threadCount === 1, `build=${tab.state.build} threadCount=${tab.state.threadCount}`);
      checkRendered(build, tab, await chartShape(tab.page));
      const g = await guarded(`${build}: gram eigenvalues`, () => gramInPage(tab.page, GRAM));
      if (g && thrGram) {
        const d = relDiff(thrGram.par, g.par);
        info(`threads vs ${build}: max |Δλ| / λ_max = ${d.toExponential(2)} (λ_max = ${thrGram.par.at(-1).toFixed(4)})`);
        report(`gram eigenvalues of a seeded ${GRAM.rows}×${GRAM.cols} matrix: threads vs ${build} agree to 1e-9·λ_max`, d <= 1e-9, `max rel diff ${d.toExponential(2)}`);
      }
    }

    // c. no isolation headers → the loader falls back to the SIMD build.
    const pl = await guarded('non-isolated page loads', () => openLab(browser, `${plain.url}/`));
    if (pl) {
      tabs.push(['non-isolated', plain.url, pl]);
      report(
        'non-isolated page falls back to the simd build',
        pl.state.crossOriginIsolated === false && pl.state.build === 'simd' && pl.state.threadCount === 1,
        `isolated=${pl.state.crossOriginIsolated} build=${pl.state.build}`,
      );
      checkRendered('non-isolated', pl, await chartShape(pl.page));
    }

    // d. every request of every page went to its own server; no page errors anywhere.
    const offenders = [];
    const errors = [];
    for (const [label, origin, tab] of tabs) {
      offenders.push(...foreignRequests(tab.requests, origin).map((u) => `${label}: ${u}`));
      errors.push(...tab.errors.map((e) => `${label}: ${e}`));
      for (const u of tab.requests) {
        const m = u.match(/\/web\/pkg\/(\w+)\/spectralab_wasm_bg\.wasm$/);
        if (m) wasmSeen.add(m[1]);
      }
    }
    const total = tabs.reduce((n, [, , t]) => n + t.requests.length, 0);
    report(`all ${total} requests went to the page's own origin`, offenders.length === 0, offenders.join(', '));
    report('request log includes the workers\' wasm fetches (threads, simd, baseline)', ['threads', 'simd', 'baseline'].every((b) => wasmSeen.has(b)), [...wasmSeen].join(','));
    report('no console errors or page errors', errors.length === 0, errors.join(' | '));
  } finally {
    for (const [, , tab] of tabs) await tab.close().catch(() => {});
    await browser.close().catch(() => {});
    await isolated.close();
    await plain.close();
  }
}

const timer = setTimeout(() => {
  console.log(`not ok - smoke run finished within ${TOTAL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
timer.unref();

try {
  await main();
} catch (err) {
  report('smoke run', false, err?.stack ?? String(err));
}
finish();
