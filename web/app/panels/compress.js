// The compress panel of the lab page: per-layer truncation curves from the lab's ESDs (computed
// once by the lab and kept in the engine's model; the store's 'layers' event names the layers), the structured trade-off curves
// of the selected layer (error vs bytes, one curve per method, Pareto front highlighted), and a
// model-wide rank plan re-planned live from a budget slider. No numerics here: the engine worker
// (web/engine/methods/compress.js → crate/wasm/src/compress.rs) computes, crate/plot draws.
import { CancelledError } from '../../engine/client.js';
import { createChartView } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { loadCharts } from '../charts.js';
import { el } from '../panel.js';
import { addCompressBench } from './compress-bench.js';
import { buildCompressDom, fmtBytes, fmtMs, PLAN_COLUMNS, renderPlanTables, tradeoffSpec } from './compress-view.js';

/** Mounts the panel into its section; returns its state object (for tests). */
export function startCompressPanel({ store } = {}) {
  const section = document.getElementById('compress-panel');
  if (!section) return null;

  const state = {
    status: 'waiting', // waiting | curves | planning | ready | error
    runId: null,
    layers: [], // [{name, rows, cols, index}] in file order
    curves: new Map(), // name → truncation curve (columns)
    curvesMs: 0, // page-side time of every truncationCurves call of the run (round trips)
    curvesWorkerMs: 0, // the same, inside the worker (wasm + conversion)
    curvesWorkerCalls: 0,
    analysisMs: null, // the lab's run time, once done
    plannerMs: null,
    selected: null, // tensor name
    tradeoff: null, // structured curves of `selected`
    tradeoffMs: null,
    tradeoffStatus: 'idle', // idle | computing | done | error
    chartSeries: [], // names of the series drawn
    lastReplanMs: null, // slider move → table updated (page side)
    lastReplanWasmMs: null, // allocate inside the worker
    replans: 0,
    allocation: null,
    compare: [],
    planRows: [],
    error: null,
  };
  window.spectralabCompress = state;

  // Curves and the planner are light: the store's interactive engine. The structured fits take
  // seconds: a job on the job engine, so re-plans never wait behind them, and a new selection
  // cancels the running fit.
  const engine = store.engine;
  state.engine = engine;
  const cancelFit = () => store.jobs.cancel('compress-fit');
  /** The engine generation the 'model' planner was created in (a restart loses it). */
  let plannerGen = -1;
  let charts = null;

  // --- DOM (compress-view.js) -----------------------------------------------------------------
  const dom = buildCompressDom(section);
  const { status, layerSelect, follow, slider, budgetOut, methodSelect, precisionSelect, replanOut, chartBox, chartNote, jsonBtn, csvBtn, curveBtn, curvesJsonBtn } = dom;


  const setStatus = (text) => {
    status.textContent = text;
  };
  const fail = (what, err) => {
    if (err instanceof CancelledError) return;
    state.error = `${what}: ${err.message ?? err}`;
    setStatus(state.error);
  };

  // --- chart ----------------------------------------------------------------------------------
  const view = createChartView(chartBox, {
    name: 'compress-tradeoff',
    xLabel: 'bytes',
    yLabel: 'rel. error',
    placeholder: 'Trade-off curves appear once the lab has analysed a layer.',
    render: (range) => {
      const spec = charts ? tradeoffSpec(state, precisionSelect.value) : null;
      state.chartSeries = spec ? spec.series.map((s) => s.name) : [];
      return spec && spec.series.length ? charts.seriesChart(spec, { width: 640, height: 420, ...range }) : null;
    },
  });
  loadCharts({ simd: true })
    .then((c) => {
      charts = c;
      view.refresh();
    })
    .catch((err) => fail('charts', err));

  // --- layers and curves ------------------------------------------------------------------------
  function reset(runId) {
    state.runId = runId;
    tradeoffSeq++;
    if (state.tradeoffStatus === 'computing') cancelFit();
    Object.assign(state, {
      status: 'curves',
      layers: [],
      curvesMs: 0,
      curvesWorkerMs: 0,
      curvesWorkerCalls: 0,
      analysisMs: null,
      plannerMs: null,
      selected: null,
      tradeoff: null,
      tradeoffMs: null,
      tradeoffStatus: 'idle',
      allocation: null,
      compare: [],
      planRows: [],
      error: null,
    });
    state.curves.clear();
    layerSelect.replaceChildren();
    dom.totalsBody.replaceChildren();
    dom.planBody.replaceChildren();
    dom.planSummary.textContent = '';
    slider.disabled = jsonBtn.disabled = csvBtn.disabled = curveBtn.disabled = curvesJsonBtn.disabled = true;
    view.reset();
  }

  const dims = (row) => {
    const s = row.shape;
    if (Array.isArray(s) && s.length >= 2) return [s[0], s.slice(1).reduce((a, b) => a * b, 1)];
    return [row.N, row.M];
  };

  let chain = Promise.resolve(); // curve batches, then the planner, in order
  store.on('model', () => {
    state.status = 'waiting';
    setStatus('Waiting for the lab’s analysis…');
  });
  store.on('layers', ({ runId, rows, done }) => {
    if (runId !== state.runId) reset(runId);
    const layers = [];
    for (const r of rows ?? []) {
      if (r.status === 'error' || !Number.isInteger(r.index)) continue;
      const [rowsN, colsN] = dims(r);
      // The ESD stays in the engine's model: the worker reads it by plan index.
      const l = { name: r.name, rows: rowsN, cols: colsN, index: r.index };
      state.layers.push(l);
      layers.push(l);
      layerSelect.append(el('option', { value: l.name, textContent: `${l.name} (${l.rows}×${l.cols})` }));
    }
    chain = chain.then(async () => {
      if (runId !== state.runId) return;
      if (layers.length) {
        try {
          await engine.ready;
          const t0 = performance.now();
          const { result: curves, ms } = await engine.request('truncationCurves', [layers]);
          state.curvesMs += performance.now() - t0;
          state.curvesWorkerMs += ms;
          state.curvesWorkerCalls++;
          if (runId !== state.runId) return;
          for (const c of curves) state.curves.set(c.name, c);
        } catch (err) {
          fail('truncation curves', err);
          return;
        }
        if (!state.selected) selectLayer(followedLayer() ?? layers[0].name);
        curvesJsonBtn.disabled = false;
        setStatus(`Truncation curves: ${state.curves.size} layer(s) (${fmtMs(state.curvesMs)})${done ? '' : ' · the lab is still analysing…'}`);
      }
      if (done) await buildPlanner(runId);
    });
  });

  // A cancelled run sends no last batch: plan the layers that finished.
  store.on('cancel', () => {
    const runId = state.runId;
    chain = chain.then(() => {
      if (runId === state.runId && state.status === 'curves' && state.layers.length) return buildPlanner(runId);
      return undefined;
    });
  });

  /** Creates the 'model' planner from the layers' ESDs, again if the engine restarted since. */
  async function ensurePlanner(force = false) {
    if (!force && plannerGen === engine.generation) return;
    await engine.ready;
    await store.modelReady;
    const gen = engine.generation;
    await engine.call('plannerCreate', 'model', state.layers);
    plannerGen = gen;
  }

  let cancelledRun = null;
  store.on('cancel', ({ runId }) => {
    cancelledRun = runId;
  });

  async function buildPlanner(runId) {
    state.analysisMs = store.analysisMs ?? null;
    if (!state.layers.length) {
      state.status = 'error';
      setStatus('No layer spectrum to plan.');
      return;
    }
    state.status = 'planning';
    const t0 = performance.now();
    try {
      await ensurePlanner(true);
    } catch (err) {
      state.status = 'error';
      fail('planner', err);
      return;
    }
    if (runId !== state.runId) return;
    state.plannerMs = performance.now() - t0;
    slider.disabled = false;
    curveBtn.disabled = false;
    await replan();
    state.status = 'ready';
    const partial = cancelledRun === runId ? ' (the lab’s run was cancelled: finished layers only)' : '';
    setStatus(`${state.layers.length} layers${partial} · truncation curves ${fmtMs(state.curvesMs)} · planner ${fmtMs(state.plannerMs)}`);
    computeTradeoff();
  }

  // --- selection --------------------------------------------------------------------------------
  function followedLayer() {
    if (!follow.checked || store.selected === null) return null;
    const name = state.layers.find((l) => l.index === store.selected)?.name;
    return name && state.curves.has(name) ? name : null;
  }

  function selectLayer(name) {
    if (!name || name === state.selected) return;
    state.selected = name;
    layerSelect.value = name;
    view.reset();
    if (state.status === 'ready') computeTradeoff();
  }

  layerSelect.addEventListener('change', () => selectLayer(layerSelect.value));
  store.on('select', () => selectLayer(followedLayer()));

  // Structured curves of the selected layer (reads the tensor again: seconds for big layers).
  let tradeoffSeq = 0;
  async function computeTradeoff() {
    const name = state.selected;
    const model = store.model;
    if (!name || !model?.blob) return;
    if (state.tradeoff?.tensor === name) return;
    const seq = ++tradeoffSeq;
    if (state.tradeoffStatus === 'computing') cancelFit();
    state.tradeoffStatus = 'computing';
    chartNote.textContent = `Computing the structured curves of ${name} (SVD, quantization, low rank + quantized/sparse, Monarch, Kronecker, DCT, PiSSA)…`;
    const t0 = performance.now();
    try {
      const options = { precision: precisionSelect.value };
      const r = await store.jobs.run('compress-fit', (job) => job.call('tradeoffCurves', model.blob, model.name, name, options));
      if (seq !== tradeoffSeq || name !== state.selected) return;
      state.tradeoff = r;
      state.tradeoffMs = performance.now() - t0;
      state.tradeoffStatus = 'done';
      chartNote.textContent = `${r.series.length} methods, ${r.pareto.bytes.length} points on the Pareto front (black) · ${fmtMs(state.tradeoffMs)} · dense ${fmtBytes(r.denseBytes?.[precisionSelect.value])} at ${precisionSelect.value}`;
      view.reset();
    } catch (err) {
      if (seq !== tradeoffSeq) return;
      state.tradeoffStatus = 'error';
      chartNote.textContent = err instanceof CancelledError ? '' : `Structured curves failed: ${err.message}`;
    }
  }
  curveBtn.addEventListener('click', () => {
    state.tradeoff = null;
    computeTradeoff();
  });

  // --- plan -------------------------------------------------------------------------------------
  const target = () => ({ kind: 'fraction', value: Number(slider.value) / 100, precision: precisionSelect.value });

  async function replan() {
    const t0 = performance.now();
    const runId = state.runId;
    const tgt = target();
    const method = methodSelect.value;
    try {
      await ensurePlanner();
      const [a, cmp] = await Promise.all([engine.call('plannerAllocate', 'model', tgt, method), engine.call('plannerCompare', 'model', tgt)]);
      if (runId !== state.runId) return;
      state.allocation = a;
      state.compare = cmp;
      state.lastTarget = tgt;
      state.planRows = a.layers.map((l) => ({ name: l.name, rows: l.rows, cols: l.cols, rank: l.rank, dense: l.dense, params: l.params, rel_fro_error: l.rel_fro_error }));
      renderPlanTables(dom, a, cmp, tgt, state.selected, (name) => {
        follow.checked = false;
        selectLayer(name);
      });
      state.lastReplanWasmMs = a.ms;
      state.lastReplanMs = performance.now() - t0;
      state.replans++;
      replanOut.textContent = `re-planned in ${fmtMs(state.lastReplanMs)} (wasm ${fmtMs(a.ms)})`;
      jsonBtn.disabled = csvBtn.disabled = false;
      view.refresh();
    } catch (err) {
      fail('re-plan', err);
    }
  }

  // Live re-plan: at most one in flight, the latest slider position wins, once per frame.
  let queued = false;
  let running = false;
  let again = false;
  function scheduleReplan() {
    budgetOut.textContent = `${slider.value} %`;
    if (queued) return;
    queued = true;
    requestAnimationFrame(async () => {
      queued = false;
      if (running) {
        again = true;
        return;
      }
      running = true;
      await replan();
      running = false;
      if (again) {
        again = false;
        scheduleReplan();
      }
    });
  }
  slider.addEventListener('input', scheduleReplan);
  methodSelect.addEventListener('change', scheduleReplan);
  precisionSelect.addEventListener('change', () => {
    scheduleReplan();
    view.refresh();
    // The SVD and PiSSA curves store their factors at this precision: fit them again.
    if (state.status === 'ready') {
      state.tradeoff = null;
      computeTradeoff();
    }
  });

  // --- exports ----------------------------------------------------------------------------------
  const stem = () => (store.model?.name ?? 'model').replace(/\.[^.]+$/, '');
  jsonBtn.addEventListener('click', async () => {
    try {
      await ensurePlanner();
      const json = await engine.call('plannerPlanJson', 'model');
      downloadBlob(new Blob([json + '\n'], { type: 'application/json' }), `${stem()}-plan-${methodSelect.value}-${slider.value}pct.json`);
    } catch (err) {
      fail('export', err);
    }
  });
  // The selected layer's curves: truncated SVD (every rank) and, once computed, the structured ones.
  curvesJsonBtn.addEventListener('click', () => {
    const name = state.selected;
    const plain = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v) : v]));
    const c = state.curves.get(name);
    const t = state.tradeoff?.tensor === name ? state.tradeoff : null;
    const doc = {
      tensor: name,
      truncation: c ? plain(c) : null,
      structured: t ? { ...t, series: t.series.map(plain), pareto: plain(t.pareto) } : null,
    };
    downloadBlob(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }), `${stem()}-${name}-curves.json`);
  });
  csvBtn.addEventListener('click', () => {
    downloadBlob(new Blob([toCsv(state.planRows, PLAN_COLUMNS)], { type: 'text/csv' }), `${stem()}-plan-${methodSelect.value}-${slider.value}pct.csv`);
  });

  addCompressBench(state, engine);
  state.replan = replan;

  setStatus('Waiting for the lab’s analysis…');
  return state;
}
