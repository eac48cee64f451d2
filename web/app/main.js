// The lab page: picks a wasm build, creates the store (store.js: the open model and the page's two
// engine workers), starts the panels, runs the built-in demo (ESD of a Gaussian matrix vs
// Marchenko–Pastur) as a job and wires its controls. No numerics here: the engine computes,
// demo-chart.js maps to pixels.
import { chooseBuild, detectFeatures, explainChoice, readBuildOverride } from '../engine/loader.js';
import { CancelledError } from '../engine/client.js';
import { createStore } from './store.js';
import { renderEsdChart } from './demo-chart.js';
import { startCompressPanel } from './panels/compress.js';
import { startLab } from './panels/lab.js';
import { startMetricsPanel } from './panels/metrics.js';
import { startQuantPanel } from './panels/quantplan.js';
import { startComparePanel } from './panels/compare.js';
import { startTransformPanel } from './panels/transform.js';
import { startTabs } from './tabs.js';

const $ = (sel) => document.querySelector(sel);
const ui = {
  status: $('#engine-status'),
  note: $('#engine-note'),
  form: $('#demo-form'),
  rows: $('#demo-rows'),
  cols: $('#demo-cols'),
  bins: $('#demo-bins'),
  seed: $('#demo-seed'),
  run: $('#demo-run'),
  cancel: $('#demo-cancel'),
  demoStatus: $('#demo-status'),
  chart: $('#demo-chart'),
  stats: $('#demo-stats'),
};

const features = detectFeatures();
const override = readBuildOverride();
const build = chooseBuild(features, override);

/** Read by the e2e tests (and handy in the console). */
const state = {
  build: null,
  requestedBuild: override,
  chosenBuild: build,
  threadCount: null,
  simd: null,
  threads: null,
  gramKernel: null,
  version: null,
  crossOriginIsolated: features.crossOriginIsolated,
  hardwareConcurrency: features.hardwareConcurrency,
  status: 'loading', // loading | idle | computing | cancelled | error
  renderCount: 0,
  lastError: null,
  cancelLatencyMs: null,
};
window.spectralabState = state;
window.spectralabReady = false;

// The store owns the page's two engine workers: the interactive one (the lab's model) and the job
// engine (long, cancellable work: this demo, compare, fits, metrics, transforms).
const store = createStore({ build, threads: features.hardwareConcurrency });
/** The demo runs on the job engine. */
const engine = store.jobs.engine;
window.spectralab = { engine, store, features, state };

// Tabs: one panel at a time, by #hash (web/app/tabs.js).
window.spectralab.tabs = startTabs(document.querySelector('header.masthead'), store);
window.spectralab.tabs.show();
// The model lab works on the interactive engine, so the demo's Cancel never stops a model run.
window.spectralab.lab = startLab({ store, simd: features.simd });
// The panels share the store's engines; each Cancel stops only its own job.
const panelOptions = { build, store, lab: window.spectralab.lab };
window.spectralab.metrics = startMetricsPanel(panelOptions);
window.spectralab.compress = startCompressPanel(panelOptions);
window.spectralab.quant = startQuantPanel(panelOptions);
window.spectralab.compare = startComparePanel(panelOptions);
window.spectralab.transform = startTransformPanel(panelOptions);

/** Short build label for the status line: "threads ×4" / "SIMD" / "baseline". */
function buildLabel(info) {
  if (info.build === 'threads') return `threads ×${info.threadCount}`;
  return info.build === 'simd' ? 'SIMD' : 'baseline';
}

async function showEngine() {
  ui.status.textContent = 'Engine: loading…';
  const info = await engine.ready;
  Object.assign(state, {
    build: info.build,
    threadCount: info.threadCount,
    simd: info.simd,
    threads: info.threads,
    gramKernel: info.gramKernel,
    version: info.version,
  });
  const threads =
    info.build === 'threads'
      ? `${info.threadCount} rayon worker threads (cross-origin isolated)`
      : '1 thread';
  ui.status.replaceChildren(
    'Engine: ',
    Object.assign(document.createElement('strong'), { textContent: buildLabel(info) }),
    ` · ${threads} · Gram kernel ${info.gramKernel} · v${info.version} · loaded in ${Math.round(info.initMs)} ms`,
  );
  ui.status.dataset.build = info.build;
  let note = explainChoice(features, override);
  if (info.fallbackFrom) note += `; the ${info.fallbackFrom} build failed to load, fell back to ${info.build}`;
  ui.note.textContent = note;
  return info;
}

function readInt(input, fallback) {
  const v = Number.parseInt(input.value, 10);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const fmt = (v, digits = 4) => (Number.isFinite(v) ? v.toPrecision(digits) : '—');

function showStats(s, { ms, roundTripMs }) {
  const ev = s.eigenvalues;
  const rows = [
    ['matrix', `${s.rows} × ${s.cols}`],
    ['eigenvalues', String(ev.length)],
    ['λ_min', fmt(ev[0])],
    ['λ_max', fmt(ev[ev.length - 1])],
    ['MP lower bound λ₋', fmt(s.mpLower)],
    ['MP upper bound λ₊', fmt(s.mpUpper)],
    ['λ_max / λ₊', fmt(ev[ev.length - 1] / s.mpUpper)],
    ['compute time (worker)', `${ms.toFixed(0)} ms`],
    ['round trip', `${roundTripMs.toFixed(0)} ms`],
  ];
  ui.stats.replaceChildren(
    ...rows.map(([k, v]) => {
      const tr = document.createElement('tr');
      tr.append(Object.assign(document.createElement('th'), { scope: 'row', textContent: k }));
      tr.append(Object.assign(document.createElement('td'), { textContent: v }));
      return tr;
    }),
  );
}

function setBusy(busy) {
  ui.run.disabled = busy;
  ui.cancel.disabled = !busy;
  ui.chart.setAttribute('aria-busy', String(busy));
}

let cancelClickedAt = null;

async function runDemo() {
  const rows = readInt(ui.rows, 2000);
  const cols = readInt(ui.cols, 500);
  const bins = readInt(ui.bins, 50);
  const seed = BigInt(readInt(ui.seed, 1));
  setBusy(true);
  state.status = 'computing';
  state.lastError = null;
  ui.demoStatus.textContent = `Computing the spectrum of a ${rows}×${cols} Gaussian matrix…`;
  try {
    const { result: s, ms, roundTripMs } = await store.jobs.run('demo', (job) => job.request('demoSpectrum', [rows, cols, bins, seed]));
    renderEsdChart(ui.chart, s);
    showStats(s, { ms, roundTripMs });
    const ev = s.eigenvalues;
    Object.assign(state, {
      status: 'idle',
      rows: s.rows,
      cols: s.cols,
      eigenvalueCount: ev.length,
      lambdaMin: ev[0],
      lambdaMax: ev[ev.length - 1],
      mpLower: s.mpLower,
      mpUpper: s.mpUpper,
      computeMs: ms,
      roundTripMs,
      renderCount: state.renderCount + 1,
    });
    ui.demoStatus.textContent = `Done: ${rows}×${cols} in ${ms.toFixed(0)} ms (${state.build}).`;
    window.spectralabReady = true;
  } catch (err) {
    if (err instanceof CancelledError) {
      state.status = 'cancelled';
      state.lastError = err.message;
      state.cancelLatencyMs = cancelClickedAt === null ? null : performance.now() - cancelClickedAt;
      ui.demoStatus.textContent = 'Cancelled; the engine was restarted.';
    } else {
      state.status = 'error';
      state.lastError = err.message;
      ui.demoStatus.textContent = `Error: ${err.message}`;
      console.warn('[spectralab] demo failed:', err);
    }
  } finally {
    // After a cancel the fresh worker must be ready before the next run.
    await engine.ready.catch(() => {});
    setBusy(false);
  }
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!ui.run.disabled) runDemo();
});

ui.cancel.addEventListener('click', () => {
  cancelClickedAt = performance.now();
  store.jobs.cancel('demo');
});

try {
  await showEngine();
  await runDemo();
} catch (err) {
  state.status = 'error';
  state.lastError = err.message;
  ui.status.textContent = `Engine failed to load: ${err.message}`;
  console.error('[spectralab]', err);
}
