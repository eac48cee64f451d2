// The model lab: open a weight file (built-in example, ?src=, drag-and-drop, file picker), analyse
// it layer by layer in the engine worker (one call per layer, so rows stream in), and show the
// layer table, α per layer, and the selected layer's ESD and rank plot. No numerics here: the
// engine computes, crate/plot draws, web/chart handles interaction and export.
import { CancelledError } from '../engine/client.js';
import { createChartView } from '../chart/interact.js';
import { downloadBlob, toCsv } from '../chart/export.js';
import { loadCharts } from './charts.js';
import { el, setChildren } from './panel.js';

export const EXAMPLE_URL = new URL('examples/minilm-l6-encoder-f16.safetensors', document.baseURI).href;
const ACCEPT = /\.(safetensors|npy|npz|bin|pt|pth|gguf)$/i;
/** Files of a sharded checkpoint: shards and the Hugging Face index. */
/** Skipped tensors listed under the table (the JSON export has all of them). */
const SKIPPED_SHOWN = 2000;
const SHARD_FILE = /(\.safetensors|\.index\.json)$/i;

/** Table columns: WeightWatcher names, a label, a formatter. */
const num = (d = 4) => (v) => (Number.isFinite(v) ? (Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toPrecision(d)) : '—');
const COLUMNS = [
  { key: 'layer_id', label: '#', fmt: num() },
  { key: 'name', label: 'name', fmt: (v) => v ?? '' },
  { key: 'N', label: 'N', fmt: num() },
  { key: 'M', label: 'M', fmt: num() },
  { key: 'dtype', label: 'type', fmt: (v) => v ?? '' },
  { key: 'Q', label: 'Q', fmt: num(3) },
  { key: 'num_evals', label: 'evals', fmt: num() },
  { key: 'alpha', label: 'α', fmt: num(4) },
  { key: 'farms_alpha', label: 'α FARMS', get: (r) => r.farms?.alpha, fmt: num(4) },
  { key: 'xmin', label: 'x_min', fmt: num(4) },
  { key: 'D', label: 'D', fmt: num(3) },
  { key: 'Lambda', label: 'Λ (TPL)', fmt: num(4) },
  { key: 'lambda_max', label: 'λ_max', fmt: num(4) },
  { key: 'stable_rank', label: 'stable rank', fmt: num(4) },
  { key: 'entropy', label: 'entropy', fmt: num(4) },
  { key: 'alpha_weighted', label: 'α̂ (weighted)', fmt: num(4) },
  { key: 'log_norm', label: 'log norm', fmt: num(4) },
  { key: 'warning', label: 'warning', fmt: (v, r) => (r.status && r.status !== 'success' ? `${r.status}: ${r.reason ?? ''}` : v || '') },
];
/** Export columns: every scalar WeightWatcher column, plus FARMS and MP summaries. */
const EXPORT_KEYS = ['layer_id', 'name', 'dtype', 'layer_type', 'N', 'M', 'rf', 'Q', 'num_evals', 'sv_max', 'sv_min', 'rank_loss', 'weak_rank_loss', 'lambda_max', 'alpha', 'xmin', 'xmax', 'D', 'sigma', 'num_pl_spikes', 'Lambda', 'status', 'warning', 'norm', 'log_norm', 'spectral_norm', 'log_spectral_norm', 'alpha_weighted', 'log_alpha_norm', 'stable_rank', 'matrix_rank', 'entropy', 'num_fingers', 'raw_alpha', 'alpha_hill', 'num_traps', 'reason'];
const EXPORT_COLUMNS = [
  ...EXPORT_KEYS.map((key) => ({ key })),
  { key: 'farms_alpha', get: (r) => r.farms?.alpha },
  { key: 'farms_D', get: (r) => r.farms?.D },
  { key: 'mp_sigma', get: (r) => r.mp?.sigma_mp },
  { key: 'mp_num_spikes', get: (r) => r.mp?.num_spikes },
  { key: 'mp_softrank', get: (r) => r.mp?.mp_softrank },
];


function fmtMs(ms) {
  if (!Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Starts the lab (the section of index.html with the lab's elements) on the store's interactive
 * engine; the lab is the one that opens models into the store.
 * @param {{store: ReturnType<import('./store.js').createStore>, simd: boolean}} o
 */
export function startLab({ store, simd }) {
  const $ = (id) => document.getElementById(id);
  const ui = {
    drop: $('lab-drop'),
    file: $('lab-file'),
    folder: $('lab-folder'),
    example: $('lab-example'),
    synthetic: $('lab-synthetic'),
    run: $('lab-run'),
    cancel: $('lab-cancel'),
    farms: $('lab-opt-farms'),
    mpFit: $('lab-opt-mpfit'),
    fit: $('lab-opt-fit'),
    randomize: $('lab-opt-randomize'),
    error: $('lab-error'),
    source: $('lab-source'),
    progress: $('lab-progress'),
    progressText: $('lab-progress-text'),
    table: $('lab-table'),
    thead: $('lab-thead'),
    tbody: $('lab-tbody'),
    skipped: $('lab-skipped'),
    csv: $('lab-export-csv'),
    json: $('lab-export-json'),
    alpha: $('lab-chart-alpha'),
    esd: $('lab-chart-esd'),
    rank: $('lab-chart-rank'),
    chartSource: $('lab-chart-source'),
    selected: $('lab-selected'),
    hubId: $('lab-hub-id'),
    hubOpen: $('lab-hub-open'),
    layers: $('lab-opt-layers'),
    maxN: $('lab-opt-maxn'),
    download: $('lab-download'),
  };

  /** Read by tests/e2e/lab.mjs. */
  const lab = {
    status: 'loading', // loading | opening | running | done | cancelled | error
    source: null, // {name, size, kind: 'example'|'url'|'file'|'folder'|'synthetic'|'hub'}
    download: null, // remote models: {requests, bytes, size} fetched so far
    plan: [],
    rows: [], // analysed rows, file order (no evals)
    skipped: [], // [{name, reason}]
    error: null,
    done: 0,
    total: 0,
    runId: 0,
    startedAt: null,
    elapsedMs: null,
    selected: null, // plan index
    charts: null,
    longTasks: [], // {start, duration} of main-thread long tasks (PerformanceObserver)
    mainThreadMs: { table: 0, alphaChart: 0, layerCharts: 0 }, // longest table / chart redraws
  };
  window.spectralabLab = lab;

  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) lab.longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // longtask timing is not available everywhere
  }

  // Remote models report the bytes they fetch as progress of the running call.
  const engine = store.engine;
  store.onEngineProgress((p) => p?.download && showDownload(p.download));
  /** Hub endpoint for model ids: `?hub=` (tests point it at a local imitation), else huggingface.co. */
  const hubEndpoint = new URLSearchParams(location.search).get('hub') || undefined;
  lab.engine = engine;
  // The selected layer's ESD (plan index → Float64Array; one entry): every other ESD stays in the
  // engine's model, and crosses to the page only when its layer is selected.
  const evals = new Map();
  let source = null; // {blob, name, kind}
  let sort = { key: null, dir: 1 };
  let charts = null;

  // --- charts ---------------------------------------------------------------------------------
  const chartSize = { width: 620, height: 400 }; // ESD and rank plot, side by side
  const alphaSize = { width: 1240, height: 340 }; // α per layer, across the page
  const rowsWithEvals = () => lab.rows.filter((r) => r && r.status !== 'error');
  const selectedRow = () => {
    const r = lab.rows.find((x) => x.index === lab.selected);
    return r && evals.has(r.index) ? { ...r, evals: evals.get(r.index) } : null;
  };
  const alphaView = createChartView(ui.alpha, {
    name: 'alpha-per-layer',
    xLabel: 'layer',
    yLabel: 'α',
    placeholder: 'α per layer appears as layers finish.',
    render: (range) => (charts && rowsWithEvals().length ? charts.alphaChart(rowsWithEvals(), { ...alphaSize, ...range }) : null),
  });
  const esdView = createChartView(ui.esd, {
    name: 'esd',
    xLabel: 'λ',
    yLabel: 'density',
    placeholder: 'Select a layer to see its eigenvalue spectrum.',
    render: (range) => {
      const r = selectedRow();
      return charts && r ? charts.esdChart(r, { ...chartSize, ...range }) : null;
    },
  });
  const rankView = createChartView(ui.rank, {
    name: 'rank',
    xLabel: 'rank',
    yLabel: 'λ',
    placeholder: 'Select a layer to see its rank plot.',
    render: (range) => {
      const r = selectedRow();
      return charts && r ? charts.rankChart(r, { ...chartSize, ...range }) : null;
    },
  });

  let alphaTimer = null;
  let alphaLast = 0;
  /** Redraws α per layer at most once a second while rows stream in (keeps the main thread free). */
  function scheduleAlpha(now = false) {
    if (alphaTimer && !now) return;
    clearTimeout(alphaTimer);
    const wait = now ? 0 : Math.max(0, 1000 - (performance.now() - alphaLast));
    alphaTimer = setTimeout(() => {
      alphaTimer = null;
      alphaLast = performance.now();
      alphaView.refresh();
      lab.mainThreadMs.alphaChart = Math.max(lab.mainThreadMs.alphaChart, performance.now() - alphaLast);
    }, wait);
  }

  const chartsReady = loadCharts({ simd }).then((c) => {
    charts = c;
    lab.charts = c.source;
    ui.chartSource.textContent = c.source === 'fallback' ? 'Charts: built-in fallback (this build has no plotters charts yet).' : `Charts: ${c.source}.`;
    alphaView.refresh();
    esdView.refresh();
    rankView.refresh();
  });

  // --- table ----------------------------------------------------------------------------------
  const value = (c, r) => (c.get ? c.get(r) : r[c.key]);
  ui.thead.replaceChildren(
    el(
      'tr',
      {},
      ...COLUMNS.map((c) => {
        const b = el('button', { type: 'button', textContent: c.label, title: `Sort by ${c.label}` });
        b.addEventListener('click', () => {
          sort = sort.key === c.key ? { key: c.key, dir: -sort.dir } : { key: c.key, dir: 1 };
          renderTable();
        });
        const th = el('th', { scope: 'col' }, b);
        th.dataset.key = c.key;
        return th;
      }),
    ),
  );

  function sortedRows() {
    const rows = lab.plan.filter((p) => !p.skip).map((p) => lab.rows.find((r) => r.index === p.index) ?? { ...p, pending: true });
    if (!sort.key) return rows;
    const c = COLUMNS.find((x) => x.key === sort.key);
    return rows.slice().sort((a, b) => {
      const va = value(c, a);
      const vb = value(c, b);
      const na = va === undefined || va === null || (typeof va === 'number' && !Number.isFinite(va));
      const nb = vb === undefined || vb === null || (typeof vb === 'number' && !Number.isFinite(vb));
      if (na || nb) return na - nb; // missing values last
      return (typeof va === 'number' ? va - vb : String(va).localeCompare(String(vb))) * sort.dir;
    });
  }

  // Rows stream in one by one: unless a sort is active, only the changed rows are rebuilt (once
  // per animation frame), so the main thread stays free while the worker analyses.
  let tableQueued = false;
  const dirty = new Set();
  function queueTable(index) {
    if (index !== undefined) dirty.add(index);
    if (tableQueued) return;
    tableQueued = true;
    requestAnimationFrame(() => {
      tableQueued = false;
      const t = performance.now();
      const rows = [...dirty].map((i) => ui.tbody.querySelector(`tr[data-index="${i}"]`));
      dirty.clear();
      if (sort.key || rows.some((tr) => !tr)) renderTable();
      else for (const tr of rows) tr.replaceWith(buildRow(rowAt(Number(tr.dataset.index))));
      updateTableExtras();
      lab.mainThreadMs.table = Math.max(lab.mainThreadMs.table, performance.now() - t);
    });
  }

  /** The analysed row of plan index `i`, or its plan entry marked pending. */
  function rowAt(i) {
    return lab.rows.find((r) => r.index === i) ?? { ...lab.plan.find((p) => p.index === i), pending: true };
  }

  function buildRow(r) {
    const tr = el('tr', { tabIndex: r.index === lab.selected ? 0 : -1 });
    tr.dataset.index = r.index;
    if (r.pending) tr.classList.add('pending');
    if (r.warning) tr.classList.add(`warn-${r.warning}`);
    if (r.status && r.status !== 'success') tr.classList.add(`status-${r.status}`);
    if (r.index === lab.selected) {
      tr.classList.add('selected');
      tr.setAttribute('aria-selected', 'true');
    }
    for (const c of COLUMNS) {
      const v = value(c, r);
      const td = el('td', { textContent: r.pending && !['layer_id', 'name', 'N', 'M'].includes(c.key) ? '' : c.fmt(v, r) });
      if (c.key === 'name') td.className = 'name';
      tr.append(td);
    }
    return tr;
  }

  function renderTable() {
    for (const th of ui.thead.querySelectorAll('th')) {
      th.setAttribute('aria-sort', th.dataset.key === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    }
    const rows = sortedRows();
    const focusedIndex = document.activeElement?.closest?.('#lab-tbody tr')?.dataset.index;
    const frag = document.createDocumentFragment();
    for (const r of rows) frag.append(buildRow(r));
    ui.tbody.replaceChildren(frag);
    if (lab.selected === null && rows.length) ui.tbody.firstElementChild.tabIndex = 0;
    if (focusedIndex !== undefined) ui.tbody.querySelector(`tr[data-index="${focusedIndex}"]`)?.focus();
    updateTableExtras();
  }

  let skippedShown = null;
  function updateTableExtras() {
    if (skippedShown !== lab.skipped) {
      skippedShown = lab.skipped;
      // Long lists (a checkpoint with 10⁵ norms and biases) show their first SKIPPED_SHOWN.
      const shown = lab.skipped.slice(0, SKIPPED_SHOWN).map((s) => el('li', {}, el('code', { textContent: s.name }), ` — ${s.reason}`));
      if (lab.skipped.length > SKIPPED_SHOWN) shown.push(el('li', { textContent: `… and ${lab.skipped.length - SKIPPED_SHOWN} more (all of them are in the JSON export)` }));
      setChildren(ui.skipped, lab.skipped.length ? [el('summary', { textContent: `${lab.skipped.length} tensor(s) not analysed` }), el('ul', {}, shown)] : []);
      ui.skipped.hidden = lab.skipped.length === 0;
    }
    ui.csv.disabled = ui.json.disabled = lab.rows.length === 0;
  }

  ui.tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr');
    if (tr) select(Number(tr.dataset.index), { focus: true });
  });
  ui.tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr');
    if (!tr) return;
    let next = null;
    if (e.key === 'ArrowDown') next = tr.nextElementSibling;
    else if (e.key === 'ArrowUp') next = tr.previousElementSibling;
    else if (e.key === 'Home') next = ui.tbody.firstElementChild;
    else if (e.key === 'End') next = ui.tbody.lastElementChild;
    else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      select(Number(tr.dataset.index), { focus: true });
      return;
    } else return;
    e.preventDefault();
    if (next) {
      tr.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
      select(Number(next.dataset.index), { focus: true });
    }
  });

  /** Selects a layer and fetches its ESD from the engine for the charts. */
  async function select(index, { focus = false } = {}) {
    lab.selected = index;
    store.select(index);
    const row = lab.rows.find((r) => r.index === index);
    const plan = lab.plan.find((p) => p.index === index);
    ui.selected.textContent = plan ? `Selected: ${plan.name} (${plan.N}×${plan.M})` : '';
    renderTable();
    if (focus) ui.tbody.querySelector(`tr[data-index="${index}"]`)?.focus();
    if (row && !evals.has(index) && row.status !== 'error') {
      try {
        const ev = await engine.call('layerEvals', index);
        if (lab.selected !== index) return;
        evals.clear();
        evals.set(index, ev);
      } catch (err) {
        if (!(err instanceof CancelledError)) ui.selected.textContent += ` — ESD unavailable: ${err.message}`;
      }
    }
    if (lab.selected === index) {
      const t = performance.now();
      esdView.reset();
      rankView.reset();
      lab.mainThreadMs.layerCharts = Math.max(lab.mainThreadMs.layerCharts, performance.now() - t);
    }
  }

  // --- running --------------------------------------------------------------------------------
  function options() {
    const o = { farms: ui.farms.checked, mpFit: ui.mpFit.checked, randomize: ui.randomize.checked, fit: ui.fit.value };
    const layers = (ui.layers?.value ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    if (layers.length) o.layers = layers;
    // WeightWatcher skips matrices with more than max_N = 50000 rows (embeddings, LM heads);
    // raising it here analyses them too, streamed by row blocks.
    const maxN = Number(ui.maxN?.value);
    if (Number.isInteger(maxN) && maxN > 0 && maxN !== 50000) o.maxN = maxN;
    return o;
  }

  const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  /** Bytes fetched of a remote model, next to the analysis progress. */
  function showDownload(d) {
    lab.download = d;
    if (!ui.download) return;
    ui.download.hidden = !d;
    if (d) ui.download.textContent = `downloaded ${mib(d.bytes)} of ${mib(d.size)} (${d.requests} request${d.requests === 1 ? '' : 's'})`;
  }

  function showError(msg) {
    ui.error.textContent = msg;
    ui.error.hidden = !msg;
  }

  function setProgress(done, total, name, etaMs) {
    ui.progress.max = Math.max(1, total);
    ui.progress.value = done;
    const parts = [`layer ${done}/${total}`];
    if (name) parts.push(name);
    if (Number.isFinite(etaMs)) parts.push(`ETA ${fmtMs(etaMs)}`);
    ui.progressText.textContent = parts.join(' · ');
  }

  function setBusy(busy) {
    ui.cancel.disabled = !busy;
    ui.run.disabled = busy || !source;
    ui.example.disabled = busy;
    ui.synthetic.disabled = busy;
    ui.file.disabled = busy;
    if (ui.folder) ui.folder.disabled = busy;
    if (ui.hubOpen) ui.hubOpen.disabled = busy;
    ui.drop.classList.toggle('busy', busy);
  }

  /**
   * Opens the current source in the engine with the options of its run. A remote model is
   * resolved and its headers fetched by the engine (HTTP range requests).
   */
  async function openSource() {
    const { blob, name, remote, opts } = source;
    if (!remote) return engine.call('openModel', blob, name, opts);
    const r = await engine.call('openRemote', remote, opts, hubEndpoint);
    showDownload(r.download);
    ui.source.textContent = `${r.label} (${mib(r.download.size)} on the server)`;
    if (lab.source) lab.source.size = r.download.size;
    return r.plan;
  }
  /**
   * Opens the source again in a restarted worker (after a crash or a Cancel); the store's
   * `modelReady` waits for it, so panels' calls that read the model come after it.
   */
  const settled = () => undefined;
  function reopen() {
    const opened = engine.ready.then(() => openSource());
    store.modelReady = opened.then(settled, settled);
    return opened;
  }

  /** Opens `blob` and analyses every planned layer, one engine call each. */
  async function run() {
    if (!source) return;
    const runId = ++lab.runId;
    const { blob, name, remote } = source;
    const size = remote ? 0 : Array.isArray(blob) ? blob.reduce((a, f) => a + f.size, 0) : blob.size;
    source.opts = options();
    Object.assign(lab, { status: 'opening', error: null, rows: [], skipped: [], plan: [], done: 0, total: 0, selected: null, startedAt: performance.now(), elapsedMs: null });
    evals.clear();
    showError('');
    showDownload(null);
    setBusy(true);
    ui.source.textContent = remote ? `${name} (resolving…)` : `${name} (${(size / 2 ** 20).toFixed(1)} MiB${Array.isArray(blob) ? `, ${blob.length} files` : ''})`;
    setProgress(0, 0, 'reading the header…');
    renderTable();
    alphaView.reset();
    esdView.reset();
    rankView.reset();
    try {
      await engine.ready;
      const opening = openSource();
      store.modelReady = opening.then(settled, settled);
      const plan = await opening;
      if (runId !== lab.runId) return;
      lab.plan = plan;
      lab.skipped = plan.filter((p) => p.skip).map((p) => ({ name: p.name, reason: p.skip }));
      const todo = plan.filter((p) => !p.skip);
      lab.total = todo.length;
      lab.status = 'running';
      renderTable();
      if (!todo.length) throw new Error(`${name}: no analysable weight matrix found (${plan.length} tensor(s), all skipped)`);
      const t0 = performance.now();
      // A wasm trap (out of memory, a bug) kills the engine's instance: the client restarts the
      // worker, the model is opened again from the same files, and the batch is retried layer by
      // layer so that only the layer that traps becomes an error row; the run goes on.
      const afterCrash = async (group, first) => {
        const out = [];
        for (const p of group) {
          try {
            await reopen();
            out.push(...(await engine.call('analyzeLayers', [p.index], false)));
          } catch (err) {
            if (err instanceof CancelledError) throw err;
            const why = err.fatal ? `the engine crashed on this layer (${err.message || first.message}) and was restarted` : err.message;
            out.push({ ...p, status: 'error', reason: why, warning: '' });
          }
        }
        await reopen().catch(() => {});
        return out;
      };
      // One engine call per batch of `threadCount` layers: the threaded build analyses a batch
      // in parallel; single-threaded builds get batches of one (rows stream in either way).
      const info = await engine.ready;
      const batch = Math.max(1, info.build === 'threads' ? info.threadCount || 1 : 1);
      for (let i = 0; i < todo.length; i += batch) {
        const group = todo.slice(i, i + batch);
        const elapsed = performance.now() - t0;
        setProgress(i, todo.length, group.map((p) => p.name).join(', '), i ? (elapsed / i) * (todo.length - i) : NaN);
        let rows;
        try {
          rows = await engine.call('analyzeLayers', group.map((p) => p.index), false);
        } catch (err) {
          if (err instanceof CancelledError) throw err;
          rows = err.fatal ? await afterCrash(group, err) : group.map((p) => ({ ...p, status: 'error', reason: err.message, warning: '' }));
        }
        if (runId !== lab.runId) return;
        // The store tells the panels (compression reads the ESDs in the engine by plan index).
        const shared = rows.map((row, k) => ({ ...row, index: group[k].index, shape: group[k].shape }));
        for (const [k, p] of group.entries()) {
          const row = rows[k];
          row.index = p.index;
          row.dtype = p.dtype;
          lab.rows.push(row);
          lab.done = lab.rows.length;
          queueTable(p.index);
          if (lab.selected === null && row.status !== 'error') select(p.index);
        }
        store.addRows(runId, shared, i + batch >= todo.length);
        scheduleAlpha();
      }
      lab.status = 'done';
      lab.elapsedMs = store.analysisMs = performance.now() - lab.startedAt;
      setProgress(todo.length, todo.length, `done in ${fmtMs(lab.elapsedMs)} (${engine.build})`);
    } catch (err) {
      if (runId !== lab.runId) return;
      lab.elapsedMs = performance.now() - lab.startedAt;
      if (err instanceof CancelledError) {
        lab.status = 'cancelled';
        setProgress(lab.done, lab.total, `cancelled after ${lab.done} layer(s); the engine was restarted`);
      } else {
        lab.status = 'error';
        lab.error = err.message;
        showError(`Could not analyse ${name}: ${err.message}`);
        setProgress(lab.done, lab.total, 'failed');
      }
    } finally {
      if (runId === lab.runId) {
        await engine.ready.catch(() => {});
        setBusy(false);
        renderTable();
        scheduleAlpha(true);
      }
    }
  }

  /**
   * Sets the source and runs it. `blob`: one File/Blob, or an array of Files (a sharded
   * checkpoint: shards + *.index.json), opened by the engine as one model.
   */
  function open(blob, name, kind) {
    source = { blob, name, kind };
    const multi = Array.isArray(blob);
    // Panels (compression, transforms, per-layer metrics) follow the store's open model; they
    // read single files (a sharded model is the lab's alone for now).
    store.setModel({ blob: multi ? null : blob, files: multi ? blob : [blob], name, kind });
    lab.source = { name, size: multi ? blob.reduce((a, f) => a + f.size, 0) : blob.size, kind, files: multi ? blob.length : 1 };
    return run();
  }

  /**
   * Opens a public model by URL (`org/name[@rev]`, `hf://…`, a …/resolve/<rev>/<file> URL): the
   * engine reads it by HTTP range requests. The one network request the lab makes, and only here.
   */
  function openRemote(spec) {
    const text = String(spec ?? '').trim();
    if (!text) {
      showError('Paste a model id (org/name) or a https://huggingface.co/…/resolve/main/<file> URL.');
      return undefined;
    }
    source = { blob: null, name: text, kind: 'hub', remote: text };
    store.setModel({ blob: null, files: [], name: text, kind: 'hub' });
    lab.source = { name: text, size: 0, kind: 'hub', files: 0 };
    return run();
  }

  /** Opens several files (a folder or a multi-file drop) as one model. */
  function openFiles(files) {
    const list = [...files].filter((f) => SHARD_FILE.test(f.name) || ACCEPT.test(f.name));
    if (!list.length) {
      showError(`No model file among ${files.length} file(s): expected a .safetensors, .npy, .npz, GGUF or PyTorch (.bin, .pt) file, or shards with their *.index.json.`);
      return;
    }
    if (list.length === 1 && !/\.index\.json$/i.test(list[0].name)) {
      openFile(list[0]);
      return;
    }
    const index = list.find((f) => /\.index\.json$/i.test(f.name));
    const dir = (list[0].webkitRelativePath || '').split('/')[0];
    const name = index ? index.name : dir || `${list.length} files`;
    open(list, list.length === 1 ? list[0].name : name, 'folder');
  }

  async function openUrl(url, kind) {
    const u = new URL(url, document.baseURI);
    const name = decodeURIComponent(u.pathname.split('/').pop() || 'model');
    if (u.origin !== location.origin) {
      showError(`Refusing to open ${u.href}: only files from this site (${location.origin}) can be opened with ?src=.`);
      lab.status = 'error';
      return;
    }
    setBusy(true);
    showError('');
    ui.source.textContent = `fetching ${name}…`;
    try {
      const res = await fetch(u.href);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      const blob = await res.blob(); // kept by the browser; the worker reads it by slices
      await open(blob, name, kind);
    } catch (err) {
      lab.status = 'error';
      lab.error = err.message;
      showError(`Could not fetch ${name}: ${err.message}`);
      setBusy(false);
    }
  }

  /** Generates the synthetic model (known spectra) in the worker and opens it like a file. */
  async function openSynthetic(seed = 1) {
    setBusy(true);
    showError('');
    ui.source.textContent = 'generating the synthetic model…';
    try {
      await engine.ready;
      const bytes = await engine.call('call', 'syntheticModel', seed);
      await open(new Blob([bytes]), 'synthetic.safetensors', 'synthetic');
    } catch (err) {
      lab.status = 'error';
      lab.error = err.message;
      showError(`Could not generate the synthetic model: ${err.message}`);
      setBusy(false);
    }
  }

  function openFile(file) {
    if (!file) return;
    if (!ACCEPT.test(file.name)) {
      showError(`${file.name}: not a .safetensors, .npy, .npz, GGUF or PyTorch (.bin, .pt) file.`);
      return;
    }
    open(file, file.name, 'file');
  }

  ui.file.addEventListener('change', () => {
    const files = [...(ui.file.files ?? [])];
    if (files.length > 1) openFiles(files);
    else openFile(files[0]);
    ui.file.value = '';
  });
  ui.folder?.addEventListener('change', () => {
    const files = [...(ui.folder.files ?? [])];
    if (files.length) openFiles(files);
    else showError('The folder is empty.');
    ui.folder.value = '';
  });
  // Changing an option re-runs the open model (when idle; during a run it applies to the next one).
  for (const box of [ui.farms, ui.mpFit, ui.randomize, ui.fit, ui.layers, ui.maxN].filter(Boolean)) {
    box.addEventListener('change', () => {
      if (source && !['running', 'opening'].includes(lab.status)) run();
    });
  }
  ui.example.addEventListener('click', () => openUrl(EXAMPLE_URL, 'example'));
  ui.hubOpen?.addEventListener('click', () => openRemote(ui.hubId.value));
  ui.hubId?.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !ui.hubOpen.disabled) {
      e.preventDefault();
      openRemote(ui.hubId.value);
    }
  });
  ui.synthetic.addEventListener('click', () => openSynthetic(1));
  ui.run.addEventListener('click', () => run());
  ui.cancel.addEventListener('click', () => {
    const cancelledRun = lab.runId++; // the loop of the cancelled run stops touching the page
    const finishedRun = lab.runId;
    engine.cancel();
    store.cancelled(cancelledRun);
    lab.status = 'cancelled';
    lab.elapsedMs = performance.now() - lab.startedAt;
    setProgress(lab.done, lab.total, `cancelled after ${lab.done} layer(s); the engine was restarted`);
    // The fresh worker opens the same files again, so the rows already shown keep their ESDs on
    // selection (analysed again on demand) and the other panels keep working.
    engine.ready
      .then(() => (finishedRun === lab.runId ? reopen() : undefined))
      .catch((err) => finishedRun === lab.runId && showError(`The model could not be opened again after Cancel: ${err.message}`))
      .finally(() => {
        if (finishedRun === lab.runId) setBusy(false);
      });
    renderTable();
    scheduleAlpha(true);
  });
  // Drag-and-drop anywhere on the page.
  let dragDepth = 0;
  document.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    dragDepth++;
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) document.body.classList.remove('dragging');
  });
  document.addEventListener('dragover', (e) => {
    if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
  });
  /** The files of a drop: plain files, or (a dropped folder) every file inside, recursively. */
  async function droppedFiles(dt) {
    const entries = [...(dt.items ?? [])].map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
    if (!entries.some((en) => en.isDirectory)) return [...(dt.files ?? [])];
    const out = [];
    const walk = async (entry) => {
      if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
      else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
          if (!batch.length) break;
          for (const child of batch) await walk(child);
        }
      }
    };
    for (const en of entries) await walk(en);
    return out;
  }
  document.addEventListener('drop', async (e) => {
    dragDepth = 0;
    document.body.classList.remove('dragging');
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    const files = await droppedFiles(e.dataTransfer);
    const go = () => (files.length > 1 || (files.length === 1 && !ACCEPT.test(files[0].name)) ? openFiles(files) : openFile(files[0]));
    if (lab.status === 'running' || lab.status === 'opening') {
      lab.runId++;
      engine.cancel();
      engine.ready.then(go, () => {});
    } else go();
  });

  // Exports.
  const stem = () => (source?.name ?? 'model').replace(/\.[^.]+$/, '');
  ui.csv.addEventListener('click', () => {
    downloadBlob(new Blob([toCsv(lab.rows, EXPORT_COLUMNS)], { type: 'text/csv' }), `${stem()}-layers.csv`);
  });
  ui.json.addEventListener('click', () => {
    const doc = { source: lab.source, options: options(), build: engine.build, layers: lab.rows, skipped: lab.skipped };
    downloadBlob(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }), `${stem()}-layers.json`);
  });

  setBusy(false);
  renderTable();
  const src = new URLSearchParams(location.search).get('src');
  const start = chartsReady.catch(() => {}).then(() => openUrl(src ?? EXAMPLE_URL, src ? 'url' : 'example'));
  return { lab, engine, start, open, openUrl, openRemote, openSynthetic, run, currentModel: () => source, views: { alpha: alphaView, esd: esdView, rank: rankView } };
}
