// The lab's charts: α per layer (redrawn at most once a second while rows stream in), and the
// selected layer's ESD and rank plot (from the one ESD the lab fetched). crate/plot draws them
// (charts.js loads it); web/chart adds hover, zoom and export.
import { createChartView } from '../../chart/interact.js';
import { loadCharts } from '../charts.js';

/**
 * @param {{ui: object, lab: object, evals: Map<number, Float64Array>, simd: boolean}} o the lab's
 *   elements (alpha, esd, rank, chartSource), state, selected ESD and whether SIMD is available
 */
export function createLabCharts({ ui, lab, evals, simd }) {
  let charts = null;
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
    ui.chartSource.textContent = `Charts: ${c.source}.`;
    alphaView.refresh();
    esdView.refresh();
    rankView.refresh();
  });
  chartsReady.catch((err) => {
    ui.chartSource.textContent = `Charts unavailable: ${err.message}`;
  });

  return { alphaView, esdView, rankView, scheduleAlpha, chartsReady };
}
