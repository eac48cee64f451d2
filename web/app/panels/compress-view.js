// The compress panel's view: its controls and tables (built once), the trade-off chart's series
// for the selected layer, and the plan tables of an allocation. Pure DOM and formatting: the
// numbers come from the engine (crate/wasm/src/compress.rs).
import { formatValue } from '../../chart/interact.js';
import { el } from '../panel.js';

export const METHODS = [
  { id: 'greedy', label: 'greedy (optimal for the budget)' },
  { id: 'uniform', label: 'uniform rank ratio' },
  { id: 'energy', label: 'energy threshold' },
  { id: 'welore', label: 'WeLore' },
];
export const PRECISIONS = ['f16', 'f32', 'int8', 'int4'];
export const PLAN_COLUMNS = [
  { key: 'name', label: 'tensor' },
  { key: 'rows', label: 'rows' },
  { key: 'cols', label: 'cols' },
  { key: 'rank', label: 'rank' },
  { key: 'dense', label: 'dense' },
  { key: 'params', label: 'params' },
  { key: 'rel_fro_error', label: 'rel_fro_error' },
];

export const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
export const fmtBytes = (b) => {
  if (!Number.isFinite(b)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toFixed(i ? 2 : 0)} ${u[i]}`;
};
export const fmtMs = (ms) => (Number.isFinite(ms) ? (ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`) : '—');

/**
 * Builds the panel's elements into `section`; returns them by name.
 * @param {HTMLElement} section
 */
export function buildCompressDom(section) {
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
  return { status, layerSelect, follow, slider, budgetOut, methodSelect, precisionSelect, replanOut, chartBox, chartNote, totalsBody, planBody, planSummary, jsonBtn, csvBtn, curveBtn, curvesJsonBtn };
}

/**
 * The chart's series for `state.selected`: the structured curves and their Pareto front once
 * computed, else the truncated SVD at `precision`; the planned rank as a marker. Null if nothing
 * to draw.
 */
export function tradeoffSpec(state, precision) {
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
    const key = { f32: 'bytesF32', f16: 'bytesF16', int8: 'bytesInt8', int4: 'bytesInt4' }[precision];
    const ks = [...c.rank.keys()].filter((k) => k > 0 && k <= c.maxSavingRank);
    series.push({ name: `svd (${precision}, truncation)`, x: ks.map((k) => c[key][k]), y: ks.map((k) => c.relFroError[k]), style: 'line' });
  }
  // The planned rank of this layer, as a marker on the SVD curve.
  const planned = state.allocation?.layers?.find((l) => l.name === name);
  const c = state.curves.get(name);
  if (planned && c && !planned.dense) {
    const key = { f32: 'bytesF32', f16: 'bytesF16', int8: 'bytesInt8', int4: 'bytesInt4' }[precision];
    series.push({ name: `plan: rank ${planned.rank}`, x: [c[key][planned.rank]], y: [planned.rel_fro_error], style: 'points', color: '#D62728' });
  }
  return { title: `${name} (${c?.rows ?? '?'}×${c?.cols ?? '?'})`, xLabel: 'bytes', yLabel: 'relative Frobenius error', xLog: true, yLog: false, series };
}

/** Fills the totals per method, the summary line and the per-layer plan of allocation `a`. */
export function renderPlanTables({ totalsBody, planSummary, planBody }, a, cmp, tgt, selected, onPick) {
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
    if (l.name === selected) tr.classList.add('selected');
    tr.addEventListener('click', () => onPick(l.name));
    frag.append(tr);
  }
  planBody.replaceChildren(frag);
}
