// The model lab: open a weight file (built-in example, ?src=, drag-and-drop, file picker), analyse
// it layer by layer in the engine worker (one call per layer, so rows stream in), and show the
// layer table, α per layer, and the selected layer's ESD and rank plot. No numerics here: the
// engine computes, crate/plot draws, web/chart handles interaction and export.
import { CancelledError } from '../../engine/client.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { createLabCharts } from './lab-charts.js';
import { createLabTable, EXPORT_COLUMNS } from './lab-table.js';
import { EXAMPLE_URL, wireLabSources } from './lab-sources.js';


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

  // --- charts (lab-charts.js) -----------------------------------------------------------------
  const { alphaView, esdView, rankView, scheduleAlpha, chartsReady } = createLabCharts({ ui, lab, evals, simd });

  // --- table (lab-table.js) ------------------------------------------------------------------
  const table = createLabTable({ ui, lab, onSelect: (index) => select(index, { focus: true }) });
  const renderTable = table.render;
  const queueTable = table.queue;

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
  // Changing an option re-runs the open model (when idle; during a run it applies to the next one).
  for (const box of [ui.farms, ui.mpFit, ui.randomize, ui.fit, ui.layers, ui.maxN].filter(Boolean)) {
    box.addEventListener('change', () => {
      if (source && !['running', 'opening'].includes(lab.status)) run();
    });
  }
  ui.hubOpen?.addEventListener('click', () => openRemote(ui.hubId.value));
  ui.hubId?.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !ui.hubOpen.disabled) {
      e.preventDefault();
      openRemote(ui.hubId.value);
    }
  });
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
  // Files, folders, drops, URLs and the synthetic model (lab-sources.js).
  const { openUrl, openSynthetic } = wireLabSources({ ui, lab, engine, open, showError, setBusy });

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
