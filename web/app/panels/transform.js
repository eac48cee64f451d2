// The transform explorer of the lab page (issue 8): a test signal (chirp, square wave, noise, sum
// of tones) or a row / column / whole weight matrix of the lab's loaded model → the signal, its
// magnitude spectrum under the FFT, DCT-II, Walsh–Hadamard (natural or sequency) or randomized
// Hadamard transform, and the energy compaction curves of FFT vs DCT vs WHT vs SVD. The numbers
// come from the store's job engine (web/engine/methods/transform.js); no numerics here
// beyond picking points to draw.
import { createChartView, formatValue } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { createJobScaffold } from './scaffold.js';
import { loadCharts } from '../charts.js';
import { el, setChildren } from '../panel.js';

const SIGNALS = [
  ['chirp', 'chirp (0 → n/4 cycles)'],
  ['square', 'square wave'],
  ['noise', 'white noise'],
  ['tones', 'sum of three tones'],
  ['tensor', 'model tensor'],
];
const KINDS = [
  ['fft', 'FFT magnitude'],
  ['dct', 'DCT-II (orthonormal)'],
  ['wht-sequency', 'Walsh–Hadamard (sequency)'],
  ['wht-natural', 'Walsh–Hadamard (natural)'],
  ['rht', 'randomized Hadamard'],
];
const KIND_NAMES = { fft: 'FFT', dct: 'DCT-II', 'wht-sequency': 'WHT (sequency)', 'wht-natural': 'WHT (natural)', rht: 'randomized Hadamard' };
const CURVES = [
  ['fft', 'FFT', '#1f77b4'],
  ['dct', 'DCT-II', '#ff7f0e'],
  ['wht', 'WHT', '#2ca02c'],
  ['svd', 'SVD', '#d62728'],
];
/** Points drawn per series at most (the data stays whole in the state). */
const MAX_POINTS = 1500;

/** Min/max decimation of (x, y) to about `max` points (keeps peaks visible). */
function decimate(x, y, max = MAX_POINTS) {
  const n = y.length;
  if (n <= max) return { x: Array.from(x), y: Array.from(y) };
  const buckets = Math.floor(max / 2);
  const xs = [];
  const ys = [];
  for (let b = 0; b < buckets; b++) {
    const i0 = Math.floor((b * n) / buckets);
    const i1 = Math.max(i0 + 1, Math.floor(((b + 1) * n) / buckets));
    let lo = i0;
    let hi = i0;
    for (let i = i0; i < i1; i++) {
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    for (const i of lo <= hi ? [lo, hi] : [hi, lo]) {
      xs.push(x[i]);
      ys.push(y[i]);
    }
  }
  return { x: xs, y: ys };
}

/** Log-spaced sample of a compaction curve: x = k (coefficients kept), y = fraction of energy. */
function curvePoints(curve, max = 400) {
  const n = curve.length;
  const ks = new Set();
  for (let i = 0; i < max; i++) ks.add(Math.min(n, Math.max(1, Math.round(n ** (i / (max - 1))))));
  const k = [...ks].sort((a, b) => a - b);
  return { x: k, y: k.map((v) => curve[v - 1]) };
}

const fmt = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? formatValue(v) : String(v));

/** Mounts the panel into its section; returns its state object (for tests). */
export function startTransformPanel({ store } = {}) {
  const section = document.querySelector('#transform-panel');
  if (!section) return null;

  const state = {
    status: 'loading', // loading | idle | computing | error
    message: '',
    source: null, // {signal, n} or {tensor, part, index}
    kind: 'fft',
    result: null, // {signal, index, magnitude, curves, …}
    table: [],
    tensors: [],
    model: null,
    lastError: null,
    renderCount: 0,
    runId: 0,
    doneId: 0,
    timings: {},
    charts: null,
  };
  window.spectralabTransform = state;

  // Every call is a job on the store's job engine (Cancel stops only this panel's job).
  const engine = store.jobs.engine;
  let charts = null;
  let model = null; // {blob, name}
  let tensorsOf = null; // the blob whose tensors are listed

  // --- DOM ------------------------------------------------------------------------------------
  const ui = {
    signal: el('select', { id: 'transform-signal' }),
    n: el('select', { id: 'transform-n' }),
    tensor: el('select', { id: 'transform-tensor', disabled: true }),
    part: el('select', { id: 'transform-part' }),
    index: el('input', { type: 'number', id: 'transform-index', value: '0', min: '0', step: '1', style: 'width: 6em' }),
    kind: el('select', { id: 'transform-kind' }),
    run: el('button', { type: 'button', textContent: 'Update', id: 'transform-run' }),
    cancel: el('button', { type: 'button', textContent: 'Cancel', id: 'transform-cancel', disabled: true }),
    progress: el('progress', { id: 'transform-progress', hidden: true }),
    status: el('p', { className: 'transform-status', id: 'transform-status', role: 'status' }),
    signalChart: el('div', { className: 'transform-chart', id: 'transform-signal-chart' }),
    spectrumChart: el('div', { className: 'transform-chart', id: 'transform-spectrum-chart' }),
    compactionChart: el('div', { className: 'transform-chart', id: 'transform-compaction-chart' }),
    table: el('table', { className: 'transform-table', id: 'transform-table' }),
    exportCsv: el('button', { type: 'button', textContent: 'Export curves (CSV)', id: 'transform-export-csv', disabled: true }),
  };
  for (const [v, t] of SIGNALS) ui.signal.append(el('option', { value: v, textContent: t, disabled: v === 'tensor' }));
  for (const p of [8, 10, 12, 14, 16]) ui.n.append(el('option', { value: String(2 ** p), textContent: `${2 ** p}`, selected: p === 12 }));
  for (const [v, t] of [['row', 'row'], ['col', 'column'], ['matrix', 'whole matrix']]) ui.part.append(el('option', { value: v, textContent: t }));
  for (const [v, t] of KINDS) ui.kind.append(el('option', { value: v, textContent: t }));
  const label = (text, input, cls = '') => el('label', { className: cls }, `${text} `, input);
  const tensorControls = el('span', { className: 'transform-tensor-controls', hidden: true }, label('tensor', ui.tensor), ' ', label('part', ui.part), ' ', label('index', ui.index));
  const nControl = label('n', ui.n);

  section.append(
    el('p', { className: 'transform-intro', textContent: 'A signal or a weight vector and its spectrum under fast transforms; the energy compaction curves show how much of the energy the k largest coefficients hold in each basis (the SVD basis is optimal for a matrix).' }),
    el('div', { className: 'transform-controls' }, label('source', ui.signal), nControl, tensorControls, label('transform', ui.kind), ui.run, ui.cancel, ui.progress),
    ui.status,
    el('div', { className: 'transform-charts' },
      el('div', {}, el('h3', { textContent: 'Signal' }), ui.signalChart),
      el('div', {}, el('h3', { textContent: 'Spectrum' }), ui.spectrumChart),
      el('div', {}, el('h3', { textContent: 'Energy compaction' }), ui.compactionChart),
      el('div', { className: 'transform-table-wrap' }, el('h3', { textContent: 'Coefficients for 90% / 99% of the energy' }), ui.table, el('p', {}, ui.exportCsv)),
    ),
  );
  section.hidden = false;

  // --- charts -----------------------------------------------------------------------------------
  const size = { width: 560, height: 320 };
  const describe = () => {
    const s = state.source;
    if (!s) return '';
    if (s.signal) return `${s.signal}, n = ${s.n}`;
    const r = state.result;
    if (s.part === 'matrix') return `${s.tensor} (${r?.usedRows ?? '?'} × ${r?.cols ?? '?'})`;
    return `${s.tensor} ${s.part === 'row' ? 'row' : 'column'} ${s.index}`;
  };
  const signalView = createChartView(ui.signalChart, {
    name: 'transform-signal',
    xLabel: 'sample',
    yLabel: 'value',
    placeholder: 'The signal appears here.',
    render: (range) => {
      const r = state.result;
      if (!charts || !r) return null;
      const matrix = state.source?.part === 'matrix';
      const idx = Array.from(r.signal, (_, i) => i);
      const pts = decimate(idx, r.signal);
      return charts.seriesChart(
        { title: matrix ? `Row norms of ${describe()}` : `Signal: ${describe()}`, xLabel: matrix ? 'row' : 'sample', yLabel: matrix ? '‖row‖' : 'value', xLog: false, yLog: false, series: [{ name: matrix ? '‖row‖' : 'x', ...pts, style: 'line' }] },
        { ...size, ...range },
      );
    },
  });
  const spectrumView = createChartView(ui.spectrumChart, {
    name: 'transform-spectrum',
    xLabel: 'index',
    yLabel: '|coefficient|',
    placeholder: 'Its magnitude spectrum appears here.',
    render: (range) => {
      const r = state.result;
      if (!charts || !r) return null;
      const x = [];
      const y = [];
      for (let i = 0; i < r.magnitude.length; i++) {
        if (r.magnitude[i] > 0 && Number.isFinite(r.magnitude[i])) {
          x.push(r.index[i]);
          y.push(r.magnitude[i]);
        }
      }
      if (!y.length) return null;
      const pts = decimate(x, y);
      const name = KIND_NAMES[state.kind] ?? state.kind;
      const xLabel = state.kind === 'fft' ? 'frequency bin' : state.kind === 'wht-sequency' ? 'sequency index' : 'coefficient index';
      const what = state.source?.part === 'matrix' ? 'RMS over rows of |coefficient|' : '|coefficient|';
      return charts.seriesChart({ title: `${name} of ${describe()}`, xLabel, yLabel: what, xLog: false, yLog: true, series: [{ name: `|${name}|`, ...pts, style: 'line' }] }, { ...size, ...range });
    },
  });
  const compactionView = createChartView(ui.compactionChart, {
    name: 'transform-compaction',
    xLabel: 'k',
    yLabel: 'energy fraction',
    placeholder: 'Energy compaction curves appear here.',
    render: (range) => {
      const c = state.result?.curves;
      if (!charts || !c) return null;
      const series = [];
      for (const [key, name, color] of CURVES) {
        if (c[key]?.length) series.push({ name, ...curvePoints(c[key]), style: 'line', color, highlight: key === 'svd' });
      }
      if (!series.length) return null;
      return charts.seriesChart({ title: `Energy in the k largest coefficients: ${describe()}`, xLabel: 'k (largest coefficients kept)', yLabel: 'fraction of energy', xLog: true, yLog: false, series }, { ...size, ...range });
    },
  });
  loadCharts({ simd: true }).then((c) => {
    charts = c;
    state.charts = c.source;
    renderAll();
  }, (err) => setStatus(`Charts unavailable: ${err.message}`, 'error'));

  // --- rendering --------------------------------------------------------------------------------
  function renderTable() {
    const c = state.result?.curves;
    state.table = c
      ? CURVES.filter(([key]) => c[key]?.length).map(([key, name]) => ({ transform: name, coefficients: c[key].length, k90: c.k90?.[key] ?? null, k99: c.k99?.[key] ?? null }))
      : [];
    if (!state.table.length) {
      ui.table.replaceChildren(el('caption', { textContent: 'No curves yet.' }));
      return;
    }
    const head = el('thead', {}, el('tr', {}, ...['basis', 'coefficients', 'k for 90%', 'k for 99%'].map((h) => el('th', { scope: 'col', textContent: h }))));
    const body = el('tbody', {}, ...state.table.map((r) => {
      const tr = el('tr', {}, el('th', { scope: 'row', textContent: r.transform }), ...[r.coefficients, r.k90, r.k99].map((v) => el('td', { className: 'num', textContent: fmt(v) })));
      tr.dataset.transform = r.transform;
      return tr;
    }));
    ui.table.replaceChildren(head, body);
  }

  function renderAll() {
    renderTable();
    signalView.refresh();
    spectrumView.refresh();
    compactionView.refresh();
    ui.exportCsv.disabled = !state.result;
    state.renderCount++;
  }

  const job = createJobScaffold({
    store,
    owner: 'transform',
    section,
    state,
    ui,
    controls: (busy) => {
      ui.run.disabled = busy;
    },
  });
  const { setStatus, call } = job;

  /** The transform options of the kind select: {kind, order?, seed?}. */
  function kindOptions() {
    const v = ui.kind.value;
    if (v === 'wht-sequency') return { kind: 'wht', order: 'sequency' };
    if (v === 'wht-natural') return { kind: 'wht', order: 'natural' };
    if (v === 'rht') return { kind: 'rht', seed: 1 };
    return { kind: v };
  }

  // --- the run ----------------------------------------------------------------------------------
  let pending = false;
  async function run() {
    if (state.status === 'computing') {
      pending = true;
      return;
    }
    state.kind = ui.kind.value;
    await job.run('Transforming…', async () => {
      const ko = kindOptions();
      if (ui.signal.value === 'tensor') {
        if (!model) throw new Error('no model loaded in the lab');
        const part = ui.part.value;
        const index = Math.floor(Number(ui.index.value) || 0);
        const tensor = ui.tensor.value || null;
        setStatus(`Transforming ${tensor} (${part})…`);
        const r = await call('transformTensor', [model.blob, model.name, tensor, { part, index, ...ko }]);
        state.source = { tensor: r.tensor, part, index, rows: r.rows, cols: r.cols };
        state.result = r;
        ui.index.max = String((part === 'col' ? r.cols : r.rows) - 1);
      } else {
        const spec = { signal: ui.signal.value, n: Number(ui.n.value), ...ko };
        setStatus(`Transforming a ${spec.signal} of ${spec.n} samples…`);
        state.source = { signal: spec.signal, n: spec.n };
        state.result = await call('transformExplore', [spec]);
      }
      renderAll();
      const t90 = state.table.map((t) => `${t.transform} ${t.k90}`).join(', ');
      setStatus(`Done: ${describe()}; coefficients for 90% of the energy: ${t90}.`, 'done');
    });
    if (pending) {
      pending = false;
      run();
    }
  }

  function syncSource() {
    const tensor = ui.signal.value === 'tensor';
    tensorControls.hidden = !tensor;
    nControl.hidden = tensor;
    ui.index.disabled = ui.part.value === 'matrix';
  }

  // --- events -----------------------------------------------------------------------------------
  ui.signal.addEventListener('change', async () => {
    syncSource();
    if (ui.signal.value === 'tensor') await listTensors();
    run();
  });
  for (const c of [ui.n, ui.kind, ui.tensor, ui.part]) {
    c.addEventListener('change', () => {
      syncSource();
      run();
    });
  }
  ui.index.addEventListener('change', () => run());
  ui.run.addEventListener('click', () => run());
  ui.exportCsv.addEventListener('click', () => {
    const c = state.result?.curves;
    if (!c) return;
    const len = Math.max(...CURVES.map(([k]) => c[k]?.length ?? 0));
    const rows = [];
    for (let i = 0; i < len; i++) rows.push({ k: i + 1, fft: c.fft[i] ?? '', dct: c.dct[i] ?? '', wht: c.wht[i] ?? '', svd: c.svd[i] ?? '' });
    const csv = toCsv(rows, ['k', 'fft', 'dct', 'wht', 'svd'].map((key) => ({ key })));
    downloadBlob(new Blob([csv], { type: 'text/csv' }), 'energy-compaction.csv');
  });

  // --- the lab's model ----------------------------------------------------------------------------
  async function listTensors() {
    if (!model || tensorsOf === model.blob) return;
    try {
      const list = await call('transformTensors', [model.blob, model.name]);
      tensorsOf = model.blob;
      state.tensors = list;
      const prefer = list.find((t) => /attention\.self\.query\.weight$/.test(t.name)) ?? list[0];
      setChildren(ui.tensor, list.map((t) => el('option', { value: t.name, textContent: `${t.name} [${t.shape.join('×')}] ${t.dtype}`, selected: t === prefer })));
      ui.tensor.disabled = list.length === 0;
    } catch (err) {
      state.lastError = err?.message ?? String(err);
      setStatus(`Error listing the tensors of ${model.name}: ${state.lastError}`, 'error');
    }
  }
  const setModel = (m) => {
    if (!m?.blob) return;
    model = { blob: m.blob, name: m.name ?? m.blob.name ?? 'model' };
    state.model = model.name;
    const opt = ui.signal.querySelector('option[value="tensor"]');
    opt.disabled = false;
    opt.textContent = `model tensor (${model.name})`;
    tensorsOf = null;
    if (ui.signal.value === 'tensor') listTensors().then(() => run());
  };
  store.on('model', ({ model: m }) => setModel(m));
  setModel(store.model);

  syncSource();
  renderAll();
  state.renderCount = 0;
  engine.ready.then(
    () => {
      if (state.status === 'loading') state.status = 'idle';
      run();
    },
    (err) => {
      state.status = 'error';
      state.lastError = err.message;
      setStatus(`Engine failed to load: ${err.message}`, 'error');
    },
  );
  return state;
}
