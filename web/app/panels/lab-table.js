// The lab's layer table: WeightWatcher's columns, sorting by header buttons, rows that stream in
// (rebuilt per animation frame), keyboard selection, and the list of tensors not analysed. It
// reads the lab's state object; selecting a row calls back into the lab.
import { el, setChildren } from '../panel.js';

/** Skipped tensors listed under the table (the JSON export has all of them). */
const SKIPPED_SHOWN = 2000;

/** Table columns: WeightWatcher names, a label, a formatter. */
const num = (d = 4) => (v) => (Number.isFinite(v) ? (Number.isInteger(v) && Math.abs(v) < 1e6 ? String(v) : v.toPrecision(d)) : '—');
export const COLUMNS = [
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
export const EXPORT_COLUMNS = [
  ...EXPORT_KEYS.map((key) => ({ key })),
  { key: 'farms_alpha', get: (r) => r.farms?.alpha },
  { key: 'farms_D', get: (r) => r.farms?.D },
  { key: 'mp_sigma', get: (r) => r.mp?.sigma_mp },
  { key: 'mp_num_spikes', get: (r) => r.mp?.num_spikes },
  { key: 'mp_softrank', get: (r) => r.mp?.mp_softrank },
];

/**
 * @param {{ui: object, lab: object, onSelect: (index: number) => void}} o the lab's elements
 *   (thead, tbody, skipped, csv, json), its state, and what a row selection does
 * @returns {{render: () => void, queue: (index?: number) => void}}
 */
export function createLabTable({ ui, lab, onSelect }) {
  let sort = { key: null, dir: 1 };
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
    if (tr) onSelect(Number(tr.dataset.index));
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
      onSelect(Number(tr.dataset.index));
      return;
    } else return;
    e.preventDefault();
    if (next) {
      tr.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
      onSelect(Number(next.dataset.index));
    }
  });

  return { render: renderTable, queue: queueTable };
}
