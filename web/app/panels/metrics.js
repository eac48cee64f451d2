// The metrics panel of the lab page (issue 6): embeddings (.npy/.npz/.safetensors/CSV/TSV, or the
// demo data) → the metrics table, the kernel eigenvalue spectrum, the Vendi q-profile and, with
// labels, per-class Vendi. Also per-tensor matrix metrics of the lab's loaded model. The numbers
// come from the store's job engine (web/engine/methods/metrics.js); no numerics here.
import { createChartView } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { createJobScaffold } from './scaffold.js';
import { loadCharts } from '../charts.js';
import { el, setChildren } from '../panel.js';
import { fmt, renderClassTable, renderMetricsTable, tableRows } from './metrics-view.js';

const EXAMPLES = {
  digits: {
    title: 'Digits demo',
    embeddings: 'examples/digits.npy',
    labels: 'examples/digits-labels.npy',
    classNames: null,
    about: 'scikit-learn digits: 1797 images of 8×8 pixels (64 features), labelled 0–9.',
  },
  abstracts: {
    title: 'Abstracts demo',
    embeddings: 'examples/abstracts-minilm.npy',
    labels: 'examples/abstracts-labels.npy',
    classNames: ['orthogonality / structured maths', 'tensor & low-rank decompositions', 'linear RNNs & spectra', 'SVD adapters', 'entropy & compression'],
    about: '197 arXiv abstracts embedded with all-MiniLM-L6-v2 (384 features), from 5 topic collections.',
  },
};

/** DSE is O(n³) in the rows it keeps: the panel subsamples to this many (seeded). */
const DSE_MAX_N = 1000;

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Mounts the panel into its section; returns its state object (for tests). */
export function startMetricsPanel({ store } = {}) {
  const section = document.querySelector('#metrics-panel');
  if (!section) return null;

  const state = {
    status: 'loading', // loading | idle | computing | error
    message: '',
    source: null,
    rows: null,
    cols: null,
    tensor: null,
    tensors: [],
    report: null,
    profile: null,
    perClass: null,
    modelMetrics: null,
    lastError: null,
    renderCount: 0,
    cancelCount: 0,
    runId: 0,
    doneId: 0,
    timings: {},
    charts: null,
  };
  window.spectralabMetrics = state;

  // Every call is a job on the store's job engine (Cancel stops only this panel's job).
  const engine = store.jobs.engine;
  let charts = null;
  let matrix = null; // {data, rows, cols}
  let labels = null; // {labels: Float64Array, names}
  let current = null; // {blob, name, labelsBlob, labelsName, classNames, tensor}
  let model = null; // {blob, name} from the lab

  // --- DOM ------------------------------------------------------------------------------------
  const ui = {
    digits: el('button', { type: 'button', textContent: EXAMPLES.digits.title, className: 'metrics-demo', title: EXAMPLES.digits.about }),
    abstracts: el('button', { type: 'button', textContent: EXAMPLES.abstracts.title, className: 'metrics-demo', title: EXAMPLES.abstracts.about }),
    file: el('input', { type: 'file', accept: '.npy,.npz,.safetensors,.csv,.tsv,.txt', id: 'metrics-file' }),
    labels: el('input', { type: 'file', accept: '.npy,.npz,.csv,.tsv,.txt,.json', id: 'metrics-labels' }),
    tensor: el('select', { id: 'metrics-tensor', disabled: true }),
    kernel: el('select', { id: 'metrics-kernel' }),
    bandwidth: el('input', { type: 'text', id: 'metrics-bandwidth', value: 'auto', size: 6, title: 'RBF bandwidth h: a number or "auto" (median pairwise distance)' }),
    rbfRow: el('input', { type: 'checkbox', id: 'metrics-rbf-row' }),
    qs: el('input', { type: 'text', id: 'metrics-qs', placeholder: 'default: 0, 0.1, …, 32', size: 18, title: 'Orders q of the profile, comma-separated' }),
    run: el('button', { type: 'button', textContent: 'Recompute', id: 'metrics-run', disabled: true }),
    cancel: el('button', { type: 'button', textContent: 'Cancel', id: 'metrics-cancel', disabled: true }),
    progress: el('progress', { id: 'metrics-progress', hidden: true }),
    status: el('p', { className: 'metrics-status', id: 'metrics-status', role: 'status' }),
    drop: el('div', { className: 'metrics-drop', id: 'metrics-drop', tabIndex: 0 }),
    table: el('table', { className: 'metrics-table', id: 'metrics-table' }),
    notes: el('ul', { className: 'metrics-notes', id: 'metrics-notes' }),
    spectrum: el('div', { className: 'metrics-chart', id: 'metrics-spectrum' }),
    profile: el('div', { className: 'metrics-chart', id: 'metrics-profile' }),
    classes: el('table', { className: 'metrics-classes', id: 'metrics-classes' }),
    exportCsv: el('button', { type: 'button', textContent: 'Export CSV', id: 'metrics-export-csv', disabled: true }),
    exportJson: el('button', { type: 'button', textContent: 'Export JSON', id: 'metrics-export-json', disabled: true }),
    modelRun: el('button', { type: 'button', textContent: 'Per-layer metrics of the loaded model', id: 'metrics-model-run', disabled: true }),
    modelTable: el('table', { className: 'metrics-model', id: 'metrics-model-table' }),
  };
  for (const [v, t] of [['cosine', 'cosine'], ['linear', 'linear'], ['rbf', 'RBF (exact, O(n³))']]) ui.kernel.append(el('option', { value: v, textContent: t }));
  ui.drop.append(
    el('strong', { textContent: 'Drop embeddings here' }),
    ' (.npy, .npz, .safetensors, .csv/.tsv; rows = items) — optionally with a labels file (a name containing “label”), or pick: ',
  );
  const label = (text, input) => el('label', {}, `${text} `, input);
  ui.drop.append(label('embeddings', ui.file), ' ', label('labels (optional)', ui.labels));

  section.append(
    el('p', { className: 'metrics-intro', textContent: 'Vendi score (diversity) of a set of embeddings, with the entropy family, effective ranks and nuclear-norm metrics. A single class should score as less diverse than the mix.' }),
    el('div', { className: 'metrics-controls' }, ui.digits, ui.abstracts, label('tensor', ui.tensor), label('profile kernel', ui.kernel), label('RBF h', ui.bandwidth), label('RBF row', ui.rbfRow), label('q values', ui.qs), ui.run, ui.cancel, ui.progress),
    ui.drop,
    ui.status,
    el('div', { className: 'metrics-results' },
      el('div', { className: 'metrics-table-wrap' }, el('h3', { textContent: 'Metrics' }), ui.table, ui.notes, el('div', { className: 'metrics-export' }, ui.exportCsv, ui.exportJson)),
      el('div', { className: 'metrics-charts' }, el('h3', { textContent: 'Kernel eigenvalue spectrum' }), ui.spectrum, el('h3', { textContent: 'Vendi q-profile' }), ui.profile),
    ),
    el('h3', { textContent: 'Per-class Vendi' }),
    ui.classes,
    el('h3', { textContent: 'Loaded model: per-tensor matrix metrics' }),
    el('p', {}, ui.modelRun),
    ui.modelTable,
  );
  section.hidden = false;

  // --- charts -----------------------------------------------------------------------------------
  const size = { width: 560, height: 340 };
  const spectrumView = createChartView(ui.spectrum, {
    name: 'vendi-spectrum',
    xLabel: 'rank',
    yLabel: 'λ',
    placeholder: 'The eigenvalues of the kernel density matrix appear here.',
    render: (range) => {
      const s = state.report?.spectrum;
      if (!charts || !s) return null;
      const y = Array.from(s).filter((v) => v > 0);
      if (!y.length) return null;
      return charts.seriesChart(
        { title: `Eigenvalues of ρ (${state.report.spectrum_kernel} kernel)`, xLabel: 'rank', yLabel: 'eigenvalue', xLog: false, yLog: true, series: [{ name: 'λ', x: y.map((_, i) => i + 1), y, style: 'both' }] },
        { ...size, ...range },
      );
    },
  });
  const profileView = createChartView(ui.profile, {
    name: 'vendi-q-profile',
    xLabel: 'q',
    yLabel: 'Vendi',
    placeholder: 'Vendi as a function of the order q appears here.',
    render: (range) => {
      if (!charts || !state.profile) return null;
      const series = [{ name: 'all', x: Array.from(state.profile.q), y: Array.from(state.profile.vendi), style: 'both', color: '#000000', highlight: true }];
      (state.perClass?.classes ?? []).forEach((c, i) => {
        if (c.profile) series.push({ name: c.name, x: Array.from(c.profile.q), y: Array.from(c.profile.vendi), style: 'line', color: PALETTE[i % PALETTE.length], dashed: true });
      });
      return charts.seriesChart({ title: `Vendi q-profile (${state.profile.kernel})`, xLabel: 'order q', yLabel: 'Vendi_q', xLog: false, yLog: true, series }, { ...size, ...range });
    },
  });
  loadCharts({ simd: true }).then((c) => {
    charts = c;
    state.charts = c.source;
    spectrumView.refresh();
    profileView.refresh();
  }, (err) => setStatus(`Charts unavailable: ${err.message}`, 'error'));

  // --- rendering --------------------------------------------------------------------------------
  function renderAll() {
    renderMetricsTable(ui, state.report);
    renderClassTable(ui, state.perClass);
    spectrumView.refresh();
    profileView.refresh();
    ui.exportCsv.disabled = ui.exportJson.disabled = !state.report;
    state.renderCount++;
  }

  const job = createJobScaffold({
    store,
    owner: 'metrics',
    section,
    state,
    ui,
    controls: (busy) => {
      for (const b of [ui.digits, ui.abstracts, ui.run, ui.file, ui.labels]) b.disabled = busy;
      ui.run.disabled = busy || !current;
      ui.modelRun.disabled = busy || !model;
    },
    progressText: (p) => `${state.message.replace(/ \(.*\)$/, '')} (${p.what ?? ''} ${p.done + 1}/${p.total})`,
  });
  const { setStatus, setBusy, call } = job;

  // --- options ----------------------------------------------------------------------------------
  function readQs() {
    const text = ui.qs.value.trim();
    if (!text) return null;
    const qs = text.split(/[\s,;]+/).filter(Boolean).map((s) => (/^(inf|∞)$/i.test(s) ? Infinity : Number(s)));
    const bad = qs.find((q) => Number.isNaN(q) || q < 0);
    if (bad !== undefined) throw new Error(`q values: "${text}" — give numbers ≥ 0 separated by commas`);
    return qs.filter(Number.isFinite);
  }
  function readBandwidth() {
    const t = ui.bandwidth.value.trim() || 'auto';
    if (t === 'auto') return 'auto';
    const h = Number(t);
    if (!(h > 0)) throw new Error(`RBF h: "${t}" is not a positive number or "auto"`);
    return h;
  }

  // --- the run ----------------------------------------------------------------------------------
  async function run(src, { reload = true } = {}) {
    current = src;
    const name = src.name;
    await job.run(`Reading ${name}…`, async () => {
      const qs = readQs();
      const kernel = ui.kernel.value;
      const bw = readBandwidth();
      if (reload || !matrix) {
        setStatus(`Reading ${name}…`);
        state.report = state.profile = state.perClass = null;
        matrix = null;
        labels = null;
        const m = await call('loadEmbeddings', [src.blob, name, src.tensor ? { tensor: src.tensor } : {}]);
        matrix = { data: m.data, rows: m.rows, cols: m.cols };
        Object.assign(state, { source: name, rows: m.rows, cols: m.cols, tensor: m.tensor, tensors: m.tensors ?? [] });
        setChildren(ui.tensor, (m.tensors ?? []).map((t) => el('option', { value: t.name, textContent: `${t.name} [${t.shape.join('×')}] ${t.dtype}`, selected: t.name === m.tensor })));
        ui.tensor.disabled = (m.tensors ?? []).length < 2;
        if (src.labelsBlob) {
          setStatus(`Reading labels ${src.labelsName}…`);
          labels = await call('loadLabels', [src.labelsBlob, src.labelsName]);
          if (labels.labels.length !== m.rows) {
            throw new Error(`the labels file has ${labels.labels.length} labels but the embeddings have ${m.rows} rows`);
          }
        }
      }
      const { data, rows, cols } = matrix;
      setStatus(`Computing the metrics of ${rows} × ${cols}…`);
      const options = { dseMaxN: DSE_MAX_N, ...(qs ? { qs } : {}), ...(ui.rbfRow.checked ? { rbfBandwidth: bw } : {}) };
      state.report = await call('metricsReport', [data, rows, cols, options]);
      renderAll();
      const vopts = { kernel, ...(kernel === 'rbf' ? { bandwidth: bw } : {}) };
      const qGrid = qs ?? state.report.q_profile.map((p) => p.q);
      if (labels) {
        setStatus(`Per-class Vendi (${kernel})…`);
        const pc = await call('vendiPerClass', [data, rows, cols, labels.labels, { ...vopts, qs: qGrid }]);
        const names = src.classNames ?? labels.names;
        pc.kernel = kernel;
        pc.classes.forEach((c) => (c.name = names?.[c.label] ?? `class ${c.label}`));
        state.perClass = pc;
        state.profile = { kernel, ...pc.allProfile };
      } else if (kernel === 'cosine' && !qs) {
        state.profile = { kernel, q: state.report.q_profile.map((p) => p.q), vendi: state.report.q_profile.map((p) => p.vendi) };
      } else {
        setStatus(`Vendi q-profile (${kernel})…`);
        state.profile = { kernel, ...(await call('vendiProfile', [data, rows, cols, { ...vopts, qs: qGrid }])) };
      }
      renderAll();
      const pcNote = state.perClass ? `; ${state.perClass.classes.filter((c) => c.score < state.perClass.all.score).length}/${state.perClass.classes.length} classes less diverse than the mix` : '';
      setStatus(`Done: ${name}${state.tensor ? ` [${state.tensor}]` : ''}, ${rows} × ${cols}; Vendi (cosine, q = 1) = ${fmt(state.report.vendi_cosine?.q1)}${pcNote}.`, 'done');
    }, { onError: renderAll });
  }

  async function runExample(key) {
    const ex = EXAMPLES[key];
    setBusy(true);
    setStatus(`Fetching the ${ex.title.toLowerCase()}…`);
    try {
      const get = async (url) => {
        const res = await fetch(new URL(url, document.baseURI));
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        return res.blob();
      };
      const [blob, labelsBlob] = await Promise.all([get(ex.embeddings), get(ex.labels)]);
      setBusy(false);
      await run({ blob, name: ex.embeddings.split('/').pop(), labelsBlob, labelsName: ex.labels.split('/').pop(), classNames: ex.classNames });
    } catch (err) {
      state.status = 'error';
      state.lastError = err.message;
      setStatus(`Error: ${err.message}`, 'error');
      setBusy(false);
    }
  }

  /** Embeddings + optional labels from a list of files (drop or the two pickers). */
  function runFiles(files, labelsFile = null) {
    const list = [...files];
    const isLabels = (f) => /label/i.test(f.name);
    const emb = list.find((f) => !isLabels(f)) ?? (list.length === 1 ? list[0] : null);
    const lab = labelsFile ?? list.find((f) => f !== emb && isLabels(f)) ?? null;
    if (!emb) {
      setStatus('Error: drop an embeddings file (a labels file alone is not enough).', 'error');
      return;
    }
    run({ blob: emb, name: emb.name, labelsBlob: lab, labelsName: lab?.name ?? null, classNames: null });
  }

  // --- events -----------------------------------------------------------------------------------
  ui.digits.addEventListener('click', () => runExample('digits'));
  ui.abstracts.addEventListener('click', () => runExample('abstracts'));
  ui.file.addEventListener('change', () => {
    if (ui.file.files.length) runFiles(ui.file.files, ui.labels.files[0] ?? null);
  });
  ui.labels.addEventListener('change', () => {
    if (ui.file.files.length) runFiles(ui.file.files, ui.labels.files[0] ?? null);
    else if (current && ui.labels.files[0]) run({ ...current, labelsBlob: ui.labels.files[0], labelsName: ui.labels.files[0].name, classNames: null });
  });
  ui.tensor.addEventListener('change', () => current && run({ ...current, tensor: ui.tensor.value }));
  ui.run.addEventListener('click', () => current && run(current, { reload: false }));
  for (const t of ['dragenter', 'dragover']) {
    section.addEventListener(t, (e) => {
      if (!e.dataTransfer?.types?.includes('Files')) return;
      e.preventDefault();
      ui.drop.classList.add('over');
    });
  }
  section.addEventListener('dragleave', (e) => {
    if (!section.contains(e.relatedTarget)) ui.drop.classList.remove('over');
  });
  section.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    // Files dropped on this panel are embeddings: keep the lab's page-wide drop (a model) out.
    e.stopPropagation();
    document.body.classList.remove('dragging');
    ui.drop.classList.remove('over');
    if (state.status !== 'computing') runFiles(e.dataTransfer.files);
  });

  const exportName = () => (state.source ?? 'metrics').replace(/\.[^.]+$/, '');
  ui.exportCsv.addEventListener('click', () => {
    if (!state.report) return;
    const rows = tableRows(state.report).map((r) => ({ ...r, value: typeof r.value === 'number' ? r.value : r.value ?? '' }));
    for (const c of state.perClass?.classes ?? []) rows.push({ group: 'per-class Vendi', metric: c.name, value: c.score, note: `${c.count} items` });
    const csv = toCsv(rows, ['group', 'metric', 'value', 'note'].map((key) => ({ key })));
    downloadBlob(new Blob([csv], { type: 'text/csv' }), `${exportName()}-metrics.csv`);
  });
  ui.exportJson.addEventListener('click', () => {
    if (!state.report) return;
    const plain = (v) => (ArrayBuffer.isView(v) ? Array.from(v) : v);
    const json = JSON.stringify({ source: state.source, tensor: state.tensor, report: state.report, perClass: state.perClass, profile: state.profile }, (k, v) => plain(v), 2);
    downloadBlob(new Blob([json], { type: 'application/json' }), `${exportName()}-metrics.json`);
  });

  // --- the lab's model ----------------------------------------------------------------------------
  const setModel = (m) => {
    if (!m?.blob) return;
    model = { blob: m.blob, name: m.name ?? m.blob.name ?? 'model' };
    ui.modelRun.disabled = state.status === 'computing';
    ui.modelRun.textContent = `Per-layer metrics of ${model.name}`;
  };
  store.on('model', ({ model: m }) => setModel(m));
  setModel(store.model);
  ui.modelRun.addEventListener('click', async () => {
    if (!model) return;
    await job.run(`Per-tensor metrics of ${model.name}…`, async () => {
      const rows = await call('modelTensorMetrics', [model.blob, model.name, {}]);
      state.modelMetrics = rows;
      const cols = [['name', 'tensor'], ['shape', 'rows × cols'], ['erank', 'erank (Diff-eRank)'], ['matrixEntropy', 'entropy H'], ['stableRank', 'stable rank'], ['royVetterliErank', 'Roy–Vetterli'], ['error', 'note']];
      const head = el('thead', {}, el('tr', {}, ...cols.map(([, h]) => el('th', { scope: 'col', textContent: h }))));
      const body = el('tbody', {}, rows.map((r) => el('tr', {}, ...cols.map(([k]) => el('td', { textContent: k === 'shape' ? `${r.rows} × ${r.cols}` : k === 'name' || k === 'error' ? r[k] ?? '' : fmt(r[k]) })))));
      ui.modelTable.replaceChildren(head, body);
      setStatus(`Done: ${rows.length} tensors of ${model.name}.`, 'done');
    });
  });

  renderAll();
  state.renderCount = 0;
  engine.ready.then(
    () => {
      if (state.status === 'loading') state.status = 'idle';
      setStatus('Ready: run a demo or drop embeddings.');
    },
    (err) => {
      state.status = 'error';
      state.lastError = err.message;
      setStatus(`Engine failed to load: ${err.message}`, 'error');
    },
  );
  ui.modelRun.disabled = !model;
  return state;
}
