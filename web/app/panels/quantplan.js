// The quantization-plan panel: one llama.cpp type per 2-D weight under a bits-per-weight budget,
// against llama.cpp's fixed recipes (uniform Q4_0 / IQ4_NL / Q4_K / Q6_K / Q8_0, Q4_K_M, Q5_K_M).
// The engine's Model (crate/core/src/session/quant.rs) quantizes every layer with every type once,
// by row blocks; moving the budget only re-plans. No numerics here.
import { CancelledError } from '../../engine/client.js';
import { createChartView, formatValue } from '../../chart/interact.js';
import { downloadBlob, toCsv } from '../../chart/export.js';
import { loadCharts } from '../charts.js';
import { el, setChildren } from '../panel.js';

const fmtErr = (v) => (Number.isFinite(v) ? v.toFixed(5) : '—');
const fmtBpw = (v) => (Number.isFinite(v) ? v.toFixed(3) : '—');
const BATCH = 4; // layers per quantMeasure call (progress granularity)
const CURVE_POINTS = 33;
const RECIPE_COLORS = ['#1F77B4', '#FF7F0E', '#2CA02C', '#9467BD', '#8C564B', '#E377C2', '#7F7F7F'];

const mix = (pairs) => pairs.map(([t, n]) => `${t}×${n}`).join(', ');

/** Starts the panel in `#quant-panel`; returns its state (for tests and the console). */
export function startQuantPanel({ store } = {}) {
  const section = document.getElementById('quant-panel');
  if (!section) return null;
  const state = {
    status: 'waiting', // waiting | ready | measuring | planned | error | cancelled
    source: null, // {files, name}
    measured: 0,
    total: 0,
    measureMs: null,
    lastPlanMs: null,
    summary: null,
    error: null,
  };
  let charts = null;
  let seq = 0;

  const status = el('p', { className: 'compress-status', role: 'status', id: 'quant-status', textContent: 'Open a model to plan its quantization.' });
  const runBtn = el('button', { type: 'button', id: 'quant-run', textContent: 'Plan quantization', disabled: true });
  const cancelBtn = el('button', { type: 'button', id: 'quant-cancel', textContent: 'Cancel', disabled: true });
  const progress = el('progress', { id: 'quant-progress', max: 1, value: 0, hidden: true });
  const slider = el('input', { type: 'range', id: 'quant-budget', min: 4.5, max: 8.5, step: 0.01, value: 4.8, disabled: true });
  const budgetOut = el('output', { id: 'quant-budget-value', textContent: '4.80 bpw' });
  const summaryP = el('p', { id: 'quant-summary', className: 'compress-summary' });
  const mixP = el('p', { id: 'quant-mix', className: 'hint' });
  const chartBox = el('div', { id: 'quant-chart', className: 'chart' });
  const recipeBody = el('tbody', { id: 'quant-recipes' });
  const layerBody = el('tbody', { id: 'quant-layers' });
  const jsonBtn = el('button', { type: 'button', id: 'quant-export-json', textContent: 'Export plan JSON', disabled: true });
  const argsBtn = el('button', { type: 'button', id: 'quant-export-args', textContent: 'llama-quantize arguments', disabled: true });
  const csvBtn = el('button', { type: 'button', id: 'quant-export-csv', textContent: 'Export table CSV', disabled: true });
  const th = (t) => el('th', { scope: 'col', textContent: t });

  section.append(
    el(
      'p',
      { className: 'lede' },
      'Which llama.cpp type each weight matrix can take: every 2-D weight is quantized and dequantized with Q4_0, IQ4_NL, Q4_K, Q4_1, Q5_0, Q5_K, Q5_1, Q6_K and Q8_0 ' +
        '(rows that do not fit 256-blocks fall back as llama-quantize does), and the mix with the least model-level error under the budget is chosen. ' +
        'Errors are weight-space errors ‖W − Ŵ‖/‖W‖ over all planned weights, not perplexity.',
    ),
    el('div', { className: 'controls' }, runBtn, cancelBtn, progress, el('label', {}, 'budget ', slider, ' ', budgetOut)),
    status,
    summaryP,
    mixP,
    el(
      'div',
      { className: 'compress-grid' },
      el('div', { className: 'compress-curves' }, chartBox),
      el(
        'div',
        { className: 'compress-plan' },
        el('table', { className: 'compress-totals', title: 'llama.cpp recipes and the plan at the same size' }, el('thead', {}, el('tr', {}, th('recipe'), th('bpw'), th('recipe error'), th('plan at ≤ its size'))), recipeBody),
        el('div', { className: 'controls' }, jsonBtn, argsBtn, csvBtn),
        el('div', { className: 'table-wrap compress-plan-wrap' }, el('table', { className: 'layers', id: 'quant-plan', title: 'Quantization plan' }, el('thead', {}, el('tr', {}, th('tensor'), th('shape'), th('file type'), th('plan type'), th('rel. error'))), layerBody)),
      ),
    ),
  );
  section.hidden = false;

  const setStatus = (t) => {
    status.textContent = t;
  };

  // --- chart ------------------------------------------------------------------------------------
  function chartSpec() {
    const s = state.summary;
    if (!s) return null;
    const series = [
      { name: 'plan (best type mix at each size)', x: s.curve.map((p) => p.bits_per_weight), y: s.curve.map((p) => p.model_rel_error), style: 'line', color: '#000000' },
    ];
    s.recipes.forEach((r, i) => {
      series.push({ name: r.recipe.name, x: [r.recipe.bits_per_weight], y: [r.recipe.model_rel_error], style: 'points', color: RECIPE_COLORS[i % RECIPE_COLORS.length] });
    });
    series.push({ name: `plan at ${fmtBpw(s.plan.bits_per_weight)} bpw`, x: [s.plan.bits_per_weight], y: [s.plan.model_rel_error], style: 'points', color: '#D62728', highlight: true });
    return { title: `${state.source?.name ?? 'model'}: error vs size`, xLabel: 'bits per weight', yLabel: 'model relative error', xLog: false, yLog: true, series };
  }
  const view = createChartView(chartBox, {
    name: 'quant-plan',
    xLabel: 'bpw',
    yLabel: 'rel. error',
    placeholder: 'The error-vs-size curve appears once the layers are quantized.',
    render: (range) => {
      const spec = charts ? chartSpec() : null;
      return spec ? charts.seriesChart(spec, { width: 640, height: 400, ...range }) : null;
    },
  });
  loadCharts({ simd: true })
    .then((c) => {
      charts = c;
      view.refresh();
    })
    .catch((err) => setStatus(`charts: ${err.message ?? err}`));

  // --- rendering --------------------------------------------------------------------------------
  function render() {
    const s = state.summary;
    if (!s) return;
    const p = s.plan;
    summaryP.textContent =
      `Plan: ${p.layers.length} tensors at ${fmtBpw(p.bits_per_weight)} bits per weight (${p.bytes.toLocaleString('en-US')} bytes), ` +
      `model relative error ${fmtErr(p.model_rel_error)}. Possible sizes: ${fmtBpw(s.min_bits_per_weight)}–${fmtBpw(s.max_bits_per_weight)} bpw.`;
    const planMix = new Map();
    for (const l of p.layers) planMix.set(l.ggml_type, (planMix.get(l.ggml_type) ?? 0) + 1);
    const planPairs = [...planMix].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    mixP.textContent = `Types in the file: ${mix(s.file_mix)} · in the plan: ${mix(planPairs)}`;
    setChildren(
      recipeBody,
      s.recipes.map((r) => {
        const same = r.plan_at_same_size;
        const better = same && same.model_rel_error < r.recipe.model_rel_error * (1 - 1e-9);
        return el(
          'tr',
          {},
          el('td', { textContent: r.recipe.name }),
          el('td', { className: 'num', textContent: fmtBpw(r.recipe.bits_per_weight) }),
          el('td', { className: 'num', textContent: fmtErr(r.recipe.model_rel_error) }),
          el('td', { className: `num${better ? ' better' : ''}`, textContent: same ? `${fmtErr(same.model_rel_error)}${better ? '' : ' (same)'}` : '—' }),
        );
      }),
    );
    const byName = new Map(s.layers.map((l) => [l.name, l]));
    setChildren(layerBody, [
      ...p.layers.map((c) => {
        const l = byName.get(c.name);
        return el(
          'tr',
          {},
          el('td', { textContent: c.name }),
          el('td', { textContent: l ? `${l.rows}×${l.cols}` : '' }),
          el('td', { textContent: l?.file_type ?? '' }),
          el('td', { textContent: c.ggml_type }),
          el('td', { className: 'num', textContent: formatValue(c.rel_fro_error) }),
        );
      }),
      ...s.layers
        .filter((l) => l.error)
        .map((l) => el('tr', { className: 'error' }, el('td', { textContent: l.name }), el('td', { textContent: `${l.rows}×${l.cols}` }), el('td', { textContent: l.file_type }), el('td', { colSpan: 2, textContent: `skipped: ${l.error}` }))),
    ]);
    jsonBtn.disabled = argsBtn.disabled = csvBtn.disabled = false;
    view.refresh();
  }

  // --- work -------------------------------------------------------------------------------------

  async function run() {
    const my = ++seq;
    state.status = 'measuring';
    state.error = null;
    runBtn.disabled = true;
    cancelBtn.disabled = false;
    progress.hidden = false;
    progress.value = 0;
    const t0 = performance.now();
    const source = state.source;
    try {
      // One job: the measurements live in the model opened under 'quant' in the job engine.
      const positions = await store.jobs.run('quant', async (job) => {
        await job.open('quant', source.files, source.name, {}, { fresh: true });
        const all = await job.call('quantPositions');
        state.total = all.length;
        state.measured = 0;
        if (!all.length) throw new Error('the model has no 2-D weight to quantize');
        for (let i = 0; i < all.length; i += BATCH) {
          await job.call('quantMeasure', all.slice(i, i + BATCH));
          if (my !== seq) return all;
          state.measured = Math.min(all.length, i + BATCH);
          progress.value = state.measured / all.length;
          setStatus(`Quantizing ${state.measured}/${all.length} layers with every type…`);
        }
        return all;
      });
      if (my !== seq) return;
      state.measureMs = performance.now() - t0;
      await replan(my);
      if (my !== seq) return;
      state.status = 'planned';
      setStatus(`${positions.length} layers quantized with 9 types in ${(state.measureMs / 1000).toFixed(1)} s; drag the budget to re-plan.`);
    } catch (err) {
      if (my !== seq) return;
      if (err instanceof CancelledError) {
        state.status = 'cancelled';
        setStatus(`Cancelled after ${state.measured}/${state.total} layers.`);
      } else {
        state.status = 'error';
        state.error = String(err.message ?? err);
        setStatus(`Quantization plan: ${state.error}`);
      }
    } finally {
      if (my === seq) {
        runBtn.disabled = !state.source;
        cancelBtn.disabled = true;
        progress.hidden = true;
      }
    }
  }

  async function replan(my = seq) {
    const bpw = Number(slider.value);
    budgetOut.textContent = `${bpw.toFixed(2)} bpw`;
    const t0 = performance.now();
    const source = state.source;
    const s = await store.jobs.run('quant', async (job) => {
      const { opened } = await job.open('quant', source.files, source.name);
      // Another job's Cancel restarted the engine: the measurements are gone with it.
      if (opened) throw new Error('the measurements were lost when the engine restarted; press “Plan quantization” again');
      return job.call('quantPlan', bpw, CURVE_POINTS);
    });
    if (my !== seq) return;
    state.lastPlanMs = performance.now() - t0;
    state.summary = s;
    slider.min = String(Math.ceil(s.min_bits_per_weight * 100) / 100);
    slider.max = String(Math.floor(s.max_bits_per_weight * 100) / 100);
    slider.disabled = false;
    render();
  }

  let replanTimer = 0;
  slider.addEventListener('input', () => {
    budgetOut.textContent = `${Number(slider.value).toFixed(2)} bpw`;
    if (state.status !== 'planned') return;
    clearTimeout(replanTimer);
    replanTimer = setTimeout(() => {
      replan().catch((err) => setStatus(`re-plan: ${err.message ?? err}`));
    }, 60);
  });
  runBtn.addEventListener('click', () => run());
  cancelBtn.addEventListener('click', () => {
    seq++;
    store.jobs.cancel('quant');
    state.status = 'cancelled';
    setStatus(`Cancelled after ${state.measured}/${state.total} layers.`);
    runBtn.disabled = !state.source;
    cancelBtn.disabled = true;
    progress.hidden = true;
  });

  const base = () => (state.source?.name ?? 'model').replace(/\.[a-z0-9]+$/i, '');
  jsonBtn.addEventListener('click', () => {
    if (state.summary) downloadBlob(new Blob([state.summary.plan_json + '\n'], { type: 'application/json' }), `${base()}-quant-plan.json`);
  });
  argsBtn.addEventListener('click', () => {
    if (state.summary) downloadBlob(new Blob([state.summary.tensor_type_args.join(' \\\n') + '\n'], { type: 'text/plain' }), `${base()}-llama-quantize-args.txt`);
  });
  csvBtn.addEventListener('click', () => {
    const s = state.summary;
    if (!s) return;
    const byName = new Map(s.layers.map((l) => [l.name, l]));
    const rows = s.plan.layers.map((c) => ({ tensor: c.name, rows: byName.get(c.name)?.rows, cols: byName.get(c.name)?.cols, file_type: byName.get(c.name)?.file_type, type: c.ggml_type, bytes: c.bytes, rel_fro_error: c.rel_fro_error }));
    const cols = ['tensor', 'rows', 'cols', 'file_type', 'type', 'bytes', 'rel_fro_error'].map((k) => ({ key: k, label: k }));
    downloadBlob(new Blob([toCsv(rows, cols)], { type: 'text/csv' }), `${base()}-quant-plan.csv`);
  });

  store.on('model', ({ model }) => {
    const { files, name } = model ?? {};
    if (!files?.length) return;
    seq++;
    if (state.status === 'measuring') store.jobs.cancel('quant');
    Object.assign(state, { status: 'ready', source: { files, name }, measured: 0, total: 0, measureMs: null, summary: null, error: null });
    runBtn.disabled = false;
    cancelBtn.disabled = true;
    slider.disabled = true;
    progress.hidden = true;
    summaryP.textContent = mixP.textContent = '';
    recipeBody.replaceChildren();
    layerBody.replaceChildren();
    jsonBtn.disabled = argsBtn.disabled = csvBtn.disabled = true;
    view.reset();
    setStatus(`${name}: press “Plan quantization” to quantize every 2-D weight with each llama.cpp type.`);
  });

  window.spectralabQuant = state;
  return state;
}
