// The selected layer of a comparison: both ESDs overlaid (common log bins) and the heatmap of
// |⟨u_j(other), u_i(base)⟩| over the top-k left singular vectors (the report's
// `overlap_matrix`). The ESDs stay in the engine until a layer is selected (`compareEsd`).
// Charts come from crate/plot (esdOverlayChart, heatmapChart); no numerics here.
import { createChartView } from '../../chart/interact.js';
import { el } from '../panel.js';

/**
 * Builds the detail view inside `parent`. `getCharts()` → the chart module or null;
 * `fetchEsd(index)` → Promise of `{base, other}`. Returns `{show(report, index, labels), clear()}`.
 */
export function createCompareDetail(parent, { getCharts, fetchEsd }) {
  const heading = el('h3', { id: 'compare-detail-title', textContent: 'Selected layer' });
  const hint = el('p', { className: 'hint', id: 'compare-detail-hint', textContent: 'Click a row of the table to see that layer’s two ESDs and its singular-vector heatmap.' });
  const esdBox = el('div', { id: 'compare-esd-chart', className: 'chart' });
  const heatBox = el('div', { id: 'compare-heatmap-chart', className: 'chart' });
  parent.append(heading, hint, el('div', { className: 'compress-grid' }, el('div', { className: 'compress-curves' }, esdBox), el('div', { className: 'compress-curves' }, heatBox)));
  const cur = { layer: null, esd: null, labels: null, seq: 0 };

  const esdView = createChartView(esdBox, {
    name: 'compare-esd',
    xLabel: 'λ',
    yLabel: 'density',
    placeholder: 'The ESDs of the selected layer appear here.',
    render: (range) => {
      const charts = getCharts();
      if (!charts?.esdOverlayChart || !cur.esd) return null;
      const spec = { name: cur.layer.name, base: cur.esd.base, other: cur.esd.other, baseLabel: cur.labels.base, otherLabel: cur.labels.other };
      return charts.esdOverlayChart(spec, { width: 520, height: 340, ...range });
    },
  });
  const heatView = createChartView(heatBox, {
    name: 'compare-heatmap',
    xLabel: 'base vector i',
    yLabel: 'other vector j',
    placeholder: 'The |⟨u_j, u_i⟩| heatmap of the selected layer appears here.',
    render: (range) => {
      const charts = getCharts();
      const m = cur.layer?.overlap_matrix;
      if (!charts?.heatmapChart || !m?.length) return null;
      const spec = { title: `|⟨u_j(other), u_i(base)⟩|, top ${m.length}`, xLabel: 'base left singular vector i', yLabel: 'other left singular vector j', matrix: m, vmin: 0, vmax: 1 };
      return charts.heatmapChart(spec, { width: 520, height: 340, ...range });
    },
  });

  return {
    async show(report, index, labels) {
      const layer = report?.layers?.[index];
      if (!layer) return;
      const my = ++cur.seq;
      Object.assign(cur, { layer, labels, esd: null });
      const sims = layer.intruder_sims.map((x) => x.toFixed(3)).join(', ');
      heading.textContent = `Selected layer: ${layer.name}`;
      hint.textContent = `${layer.intruders} intruder dimension(s) at ε = ${report.summary.eps}; best cosines c_j of the other model’s top ${layer.intruder_sims.length} left vectors with all base vectors: ${sims}. Chance level √(2 ln m / m) = ${layer.chance_level.toFixed(3)}.`;
      heatView.reset();
      const esd = await fetchEsd(index);
      if (my !== cur.seq) return;
      cur.esd = esd;
      esdView.reset();
    },
    refresh() {
      esdView.refresh();
      heatView.refresh();
    },
    clear() {
      cur.seq++;
      Object.assign(cur, { layer: null, esd: null });
      heading.textContent = 'Selected layer';
      esdView.reset();
      heatView.reset();
    },
    get selected() {
      return cur.layer?.name ?? null;
    },
  };
}
