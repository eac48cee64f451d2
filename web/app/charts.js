// Chart provider for the page's main thread. crate/plot draws with plotters, which measures text
// through the DOM (it panics in Workers), so the charts come from a second wasm instance — the
// single-threaded SIMD (or baseline) build — loaded here once and shared by every panel.
import { pkgUrl } from '../engine/loader.js';
import { chartFunctions } from '../chart/module.js';

const cache = new Map();

/**
 * Loads the chart functions (once per build; the lab and the panels share them). Resolves to
 * `{esdChart, rankChart, alphaChart, seriesChart, esdOverlayChart, heatmapChart, source}` with
 * `source` = 'plotters (<build>)'; rejects with the reason if the module cannot load.
 * `seriesChart(spec, opts)` draws `{title, xLabel, yLabel, xLog, yLog, series: [{name, x, y,
 * style, highlight, color, dashed}]}` (see crate/plot/src/series.rs).
 */
export function loadCharts({ simd = true } = {}) {
  const key = simd ? 'simd' : 'baseline';
  if (!cache.has(key)) cache.set(key, load(key));
  return cache.get(key);
}

async function load(build) {
  try {
    const mod = await import(pkgUrl(build));
    await mod.default();
    return chartFunctions(mod, `plotters (${build})`, ['esdChart', 'rankChart', 'alphaChart', 'seriesChart']);
  } catch (err) {
    throw new Error(`the chart module (${build} build) could not be loaded: ${err?.message ?? err}`);
  }
}
