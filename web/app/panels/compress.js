// The compress panel of the lab page: per-layer truncation curves from the lab's ESDs (computed
// once by the lab and kept in the engine's model; the store's 'layers' event names the layers), the structured trade-off curves
// of the selected layer (error vs bytes, one curve per method, Pareto front highlighted), and a
// model-wide rank plan re-planned live from a budget slider. No numerics here: the engine worker
// (web/engine/methods/compress.js → crate/wasm/src/compress.rs) computes, crate/plot draws.
import { CancelledError } from '../../engine/client.js';
import { createChartView, formatValue } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { loadCharts } from '../charts.js';
import { el } from '../panel.js';

const METHODS = [
  { id: 'greedy', label: 'greedy (optimal for the budget)' },
  { id: 'uniform', label: 'uniform rank ratio' },
  { id: 'energy', label: 'energy threshold' },
  { id: 'welore', label: 'WeLore' },
];
const PRECISIONS = ['f16', 'f32', 'int8', 'int4'];
const PLAN_COLUMNS = [
  { key: 'name', label: 'tensor' },
  { key: 'rows', label: 'rows' },
  { key: 'cols', label: 'cols' },
  { key: 'rank', label: 'rank' },
  { key: 'dense', label: 'dense' },
  { key: 'params', label: 'params' },
  { key: 'rel_fro_error', label: 'rel_fro_error' },
];

const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const fmtBytes = (b) => {
  if (!Number.isFinite(b)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toFixed(i ? 2 : 0)} ${u[i]}`;
};
const fmtMs = (ms) => (Number.isFinite(ms) ? (ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`) : '—');

/** Spectra of a synthetic model for the re-plan benchmark: `n` layers of transformer-like shapes
 * with power-law Gram eigenvalues (deterministic). Test data, not numerics of the panel. */
function syntheticLayers(n) {
  const shapes = [
    [256, 256],
    [256, 1024],
    [1024, 256],
    [512, 512],
  ];
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const [rows, cols] = shapes[i % shapes.length];
    const k = Math.min(rows, cols);
    const a = 1.5 + rand();
    const evals = new Float64Array(k);
    for (let j = 0; j < k; j++) evals[j] = (j + 1) ** -a * (0.8 + 0.4 * rand());
    return { name: `synthetic.${i}.weight`, rows, cols, evals };
  });
}

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

  // --- DOM ------------------------------------------------------------------------------------
  const status = el('p', { className: 'compress-status', role: 'status' });
  const layerSelect = el('select', { id: 'compress-layer', title: 'Layer whose trade-off curves are shown' });
  const follow = el('input', { type: 'checkbox', id: 'compress-follow', checked: true });
  const slider = el('input', { type: 'range', id: 'compress-budget', min: 5, max: 100, step: 1, value: 50, disabled: true });
  const budgetOut = el('output', { id: 'compress-budget-value', textContent: '50 %' });
  const methodSelect = el('select', { id: 'compress-method' }, ...METHODS.map((m) => el('option', { value: m.id, textContent: m.label })));
  const precisionSelect = el('select', { id: 'compress-precision', title: 'Storage precision of the factors (bytes in the table)' }, ...PRECISIONS.map((p) => el('option', { value: p, textContent: p })));
  const replanOut = el('span', { id: 'compress-replan-time', className: 'hint' });
  const chartBox = el('div', { id: 'compress-chart', className: 'chart' });
  const chartNote = el('p', { className: 'hint', id: 'compress-chart-note' });
  const totalsBody = el('tbody', { id: 'compress-totals' });
  const planBody = el('tbody', { id: 'compress-plan-body' });
  const planSummary = el('p', { id: 'compress-plan-summary', className: 'compress-summary' });
  const jsonBtn = el('button', { type: 'button', id: 'compress-export-json', textContent: 'Export plan JSON', disabled: true });
  const csvBtn = el('button', { type: 'button', id: 'compress-export-csv', textContent: 'Export table CSV', disabled: true });
  const curveBtn = el('button', { type: 'button', id: 'compress-structured', textContent: 'Recompute structured curves', disabled: true });
  const curvesJsonBtn = el('button', { type: 'button', id: 'compress-export-curves', textContent: 'Export curves JSON', disabled: true });

  const th = (t) => el('th', { scope: 'col', textContent: t });
  section.append(
    el(
      'p',
      { className: 'lede' },
      'How much error each way of storing a weight matrix in fewer bytes costs, from the spectra the lab just computed. ' +
        'Drag the budget to re-plan the ranks of the whole model.',
    ),
    status,
    el(
      'div',
      { className: 'compress-grid' },
      el(
        'div',
        { className: 'compress-curves' },
        el('div', { className: 'controls' }, el('label', {}, 'layer ', layerSelect), el('label', {}, follow, ' follow the lab’s selection'), curveBtn, curvesJsonBtn),
        chartBox,
        chartNote,
      ),
      el(
        'div',
        { className: 'compress-plan' },
        el(
          'div',
          { className: 'controls' },
          el('label', {}, 'budget ', slider, ' ', budgetOut, ' of dense params'),
          el('label', {}, 'method ', methodSelect),
          el('label', {}, 'precision ', precisionSelect),
          replanOut,
        ),
        el('table', { className: 'compress-totals', title: 'Model totals per method' }, el('thead', {}, el('tr', {}, th('method'), th('params'), th('of dense'), th('bytes'), th('model rel. error'), th('RMS layer error'))), totalsBody),
        planSummary,
        el('div', { className: 'controls' }, jsonBtn, csvBtn),
        el('div', { className: 'table-wrap compress-plan-wrap' }, el('table', { className: 'layers', id: 'compress-plan', title: 'Rank plan' }, el('thead', {}, el('tr', {}, th('tensor'), th('shape'), th('rank'), th('params'), th('rel. error'))), planBody)),
      ),
    ),
  );
  section.hidden = false;

  const setStatus = (text) => {
    status.textContent = text;
  };
  const fail = (what, err) => {
    if (err instanceof CancelledError) return;
    state.error = `${what}: ${err.message ?? err}`;
    setStatus(state.error);
  };

  // --- chart ----------------------------------------------------------------------------------
  function chartSpec() {
    const name = state.selected;
    if (!name) return null;
    const series = [];
    const t = state.tradeoff?.tensor === name ? state.tradeoff : null;
    if (t) {
      for (const s of t.series) {
        const keep = [...s.bytes.keys()].filter((i) => s.bytes[i] > 0 && Number.isFinite(s.error[i]));
        if (keep.length) series.push({ name: s.method, x: keep.map((i) => s.bytes[i]), y: keep.map((i) => s.error[i]), style: 'both' });
      }
      if (t.pareto.bytes.length) series.push({ name: 'Pareto front', x: Array.from(t.pareto.bytes), y: Array.from(t.pareto.error), style: 'line', highlight: true, color: '#000000' });
    } else {
      // Until the structured fits are computed: the truncated SVD at the chosen precision.
      const c = state.curves.get(name);
      if (!c) return null;
      const key = { f32: 'bytesF32', f16: 'bytesF16', int8: 'bytesInt8', int4: 'bytesInt4' }[precisionSelect.value];
      const ks = [...c.rank.keys()].filter((k) => k > 0 && k <= c.maxSavingRank);
      series.push({ name: `svd (${precisionSelect.value}, truncation)`, x: ks.map((k) => c[key][k]), y: ks.map((k) => c.relFroError[k]), style: 'line' });
    }
    // The planned rank of this layer, as a marker on the SVD curve.
    const planned = state.allocation?.layers?.find((l) => l.name === name);
    const c = state.curves.get(name);
    if (planned && c && !planned.dense) {
      const key = { f32: 'bytesF32', f16: 'bytesF16', int8: 'bytesInt8', int4: 'bytesInt4' }[precisionSelect.value];
      series.push({ name: `plan: rank ${planned.rank}`, x: [c[key][planned.rank]], y: [planned.rel_fro_error], style: 'points', color: '#D62728' });
    }
    return { title: `${name} (${c?.rows ?? '?'}×${c?.cols ?? '?'})`, xLabel: 'bytes', yLabel: 'relative Frobenius error', xLog: true, yLog: false, series };
  }

  const view = createChartView(chartBox, {
    name: 'compress-tradeoff',
    xLabel: 'bytes',
    yLabel: 'rel. error',
    placeholder: 'Trade-off curves appear once the lab has analysed a layer.',
    render: (range) => {
      const spec = charts ? chartSpec() : null;
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
    totalsBody.replaceChildren();
    planBody.replaceChildren();
    planSummary.textContent = '';
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
      renderPlan(a, cmp, tgt);
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

  function renderPlan(a, cmp, tgt) {
    const p = tgt.precision;
    totalsBody.replaceChildren(
      ...cmp.map((m) =>
        el(
          'tr',
          { className: m.method === a.method ? 'selected' : '' },
          el('td', { textContent: m.method }),
          el('td', { textContent: fmtInt(m.params) }),
          el('td', { textContent: `${((100 * m.params) / m.dense_params).toFixed(1)} %` }),
          el('td', { textContent: fmtBytes(m.bytes[p]) }),
          el('td', { textContent: formatValue(m.model_rel_error) }),
          el('td', { textContent: formatValue(m.rms_layer_rel_error) }),
        ),
      ),
    );
    const factored = a.layers.filter((l) => !l.dense).length;
    planSummary.textContent = `${a.method}: ${fmtInt(a.params)} of ${fmtInt(a.dense_params)} params (${((100 * a.params) / a.dense_params).toFixed(1)} %), ${fmtBytes(a.bytes[p])} of ${fmtBytes(a.dense_bytes[p])} at ${p}; ${factored} of ${a.layers.length} layers factored; model relative error ${formatValue(a.model_rel_error)}`;
    const frag = document.createDocumentFragment();
    for (const l of a.layers) {
      const tr = el(
        'tr',
        {},
        el('td', { className: 'name', textContent: l.name }),
        el('td', { textContent: `${l.rows}×${l.cols}` }),
        el('td', { textContent: l.dense ? `${l.rank} (dense)` : String(l.rank) }),
        el('td', { textContent: fmtInt(l.params) }),
        el('td', { textContent: formatValue(l.rel_fro_error) }),
      );
      if (l.name === state.selected) tr.classList.add('selected');
      tr.addEventListener('click', () => {
        follow.checked = false;
        selectLayer(l.name);
      });
      frag.append(tr);
    }
    planBody.replaceChildren(frag);
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

  // --- benchmark helper (tests/e2e/compress.mjs) --------------------------------------------------
  /** Builds a synthetic `n`-layer planner in the worker and times `repeats` re-plans (allocate +
   * compare, as a slider move does): page-side round trips and wasm time. */
  state.benchSynthetic = async (n = 200, repeats = 20, method = 'greedy') => {
    const layers = syntheticLayers(n);
    const t0 = performance.now();
    await engine.call('plannerCreate', 'synthetic', layers);
    const createMs = performance.now() - t0;
    const round = [];
    const wasm = [];
    for (let i = 0; i < repeats; i++) {
      const tgt = { kind: 'fraction', value: 0.05 + (0.9 * i) / Math.max(1, repeats - 1), precision: 'f16' };
      const s = performance.now();
      const [a] = await Promise.all([engine.call('plannerAllocate', 'synthetic', tgt, method), engine.call('plannerCompare', 'synthetic', tgt)]);
      round.push(performance.now() - s);
      wasm.push(a.ms);
      if (a.params > a.budget_params) throw new Error(`synthetic plan over budget at ${tgt.value}`);
    }
    await engine.call('plannerDispose', 'synthetic');
    const sorted = (xs) => xs.slice().sort((a, b) => a - b);
    const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
    return { layers: n, createMs, medianMs: median(round), maxMs: Math.max(...round), medianWasmMs: median(wasm), maxWasmMs: Math.max(...wasm) };
  };
  /** Times the truncation curves of every layer of the current run in one worker call (the
   * analysis no longer competes for the CPU): `{layers, ms (worker), roundTripMs}`. */
  state.benchCurves = async () => {
    const layers = state.layers;
    const t0 = performance.now();
    const { ms } = await engine.request('truncationCurves', [layers]);
    return { layers: layers.length, ms, roundTripMs: performance.now() - t0 };
  };
  state.replan = replan;

  setStatus('Waiting for the lab’s analysis…');
  return state;
}
