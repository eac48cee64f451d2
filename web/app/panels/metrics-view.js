// The metrics panel's tables: the rows of a MetricsReport (grouped, with the anchors' notes) and
// the per-class Vendi table. Pure DOM and formatting; the numbers come from the engine.
import { formatValue } from '../../chart/interact.js';
import { el, setChildren } from '../panel.js';

export const ORDERS = [
  ['q0', 'q = 0'],
  ['q_half', 'q = ½'],
  ['q1', 'q = 1'],
  ['q2', 'q = 2'],
  ['q_inf', 'q = ∞'],
];

export const fmt = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? formatValue(v) : String(v));

/** Rows `{group, metric, value, note}` of the metrics table from a MetricsReport. */
export function tableRows(r) {
  const rows = [];
  const add = (group, metric, value, note = '') => rows.push({ group, metric, value, note });
  add('data', 'items × features', `${r.n} × ${r.d}`);
  const vendi = [
    ['cosine', r.vendi_cosine, `path ${r.vendi_path}`],
    ['linear', r.vendi_linear, 'ρ = XXᵀ/‖X‖²'],
    ['RBF', r.vendi_rbf, r.rbf_bandwidth ? `h = ${formatValue(r.rbf_bandwidth)}, ${r.rbf_method}` : 'not computed (tick “RBF row”)'],
  ];
  for (const [kernel, o, note] of vendi) {
    for (const [key, label] of ORDERS) add(`Vendi (${kernel})`, label, o ? o[key] : null, key === 'q0' ? note : '');
  }
  const me = r.matrix_entropy;
  add('matrix entropy', 'Diff-eRank entropy H (nats)', me?.entropy ?? null, 'centred, row-normalised');
  add('matrix entropy', 'H / ln d', me?.normalized_entropy ?? null);
  add('matrix entropy', 'erank = exp(H)', me?.erank ?? null);
  add('rank', 'Roy–Vetterli effective rank', r.roy_vetterli_erank, 'singular values, no centring');
  add('rank', 'stable rank ‖X‖²_F/σ₁²', r.stable_rank);
  add('nuclear norm', '‖X‖_*', r.nuclear_norm);
  add('nuclear norm', 'MNN (L₁,₂ proxy)/N', r.mnn?.mnn ?? null, 'centred, row-normalised');
  add('nuclear norm', 'exact ‖R̂‖_*/N', r.mnn?.nuclear_norm_over_n ?? null);
  add('diffusion', 'DSE (bits)', r.dse_bits, r.dse_n_used ? `σ = 10, t = 1, ${r.dse_n_used} of ${r.n} rows` : '');
  add('UNComp', 'truncated entropy / ln d', r.uncomp?.normalized_entropy ?? null, r.uncomp?.k ? `k = ${r.uncomp.k}` : '');
  return rows;
}

/** The metrics table (and its notes) of a MetricsReport `r` into `ui.table` / `ui.notes`. */
export function renderMetricsTable(ui, r) {
  if (!r) {
    ui.table.replaceChildren();
    ui.notes.replaceChildren();
    return;
  }
  const head = el('thead', {}, el('tr', {}, ...['group', 'metric', 'value', 'note'].map((h) => el('th', { scope: 'col', textContent: h }))));
  const body = el('tbody');
  for (const row of tableRows(r)) {
    const tr = el('tr', {}, el('td', { textContent: row.group }), el('th', { scope: 'row', textContent: row.metric }), el('td', { className: 'num', textContent: fmt(row.value) }), el('td', { className: 'note', textContent: row.note }));
    tr.dataset.group = row.group;
    body.append(tr);
  }
  ui.table.replaceChildren(head, body);
  setChildren(ui.notes, (r.notes ?? []).map((n) => el('li', { textContent: n })));
}

/** The per-class Vendi table of `pc` (a vendiPerClass result with names) into `ui.classes`. */
export function renderClassTable(ui, pc) {
  if (!pc) {
    ui.classes.replaceChildren(el('caption', { textContent: 'Add a labels file (or run a demo) to see the Vendi of each class.' }));
    return;
  }
  const max = Math.max(pc.all.score, ...pc.classes.map((c) => c.score));
  const bar = (v) => {
    const b = el('span', { className: 'metrics-bar' });
    b.style.width = `${(100 * v) / max}%`;
    return el('td', { className: 'bar' }, b);
  };
  const head = el('thead', {}, el('tr', {}, ...['class', 'items', `Vendi (${pc.kernel}, q = 1)`, 'vs all', ''].map((h) => el('th', { scope: 'col', textContent: h }))));
  const allRow = el('tr', { className: 'all' }, el('th', { scope: 'row', textContent: 'all (the mix)' }), el('td', { className: 'num', textContent: String(pc.all.n) }), el('td', { className: 'num', textContent: fmt(pc.all.score) }), el('td', { className: 'num', textContent: '1' }), bar(pc.all.score));
  const body = el('tbody', {}, allRow);
  for (const c of pc.classes) {
    const tr = el('tr', {}, el('th', { scope: 'row', textContent: c.name }), el('td', { className: 'num', textContent: String(c.count) }), el('td', { className: 'num', textContent: fmt(c.score) }), el('td', { className: 'num', textContent: fmt(c.score / pc.all.score) }), bar(c.score));
    tr.dataset.label = String(c.label);
    if (c.score >= pc.all.score) tr.classList.add('above');
    body.append(tr);
  }
  ui.classes.replaceChildren(head, body);
}
