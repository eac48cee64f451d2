// Chart provider for the page's main thread. crate/plot draws with plotters, which measures text
// through the DOM (it panics in Workers), so the charts come from a second wasm instance — the
// single-threaded SIMD (or baseline) build — loaded here. Until the build exports the charts,
// web/chart/fallback.js stands in with the same signatures.
import { pkgUrl } from '../engine/loader.js';
import * as fallback from '../chart/fallback.js';

const NAMES = ['esdChart', 'rankChart', 'alphaChart'];

const cache = new Map();

/**
 * Loads the chart functions (once per build; the lab and the panels share them). Resolves to
 * `{esdChart, rankChart, alphaChart, seriesChart, esdOverlayChart, heatmapChart, source}` where `source` is 'plotters (<build>)'
 * or 'fallback'. `seriesChart(spec, opts)` draws `{title, xLabel, yLabel, xLog, yLog, series:
 * [{name, x, y, style, highlight, color, dashed}]}` (see crate/plot/src/series.rs).
 */
export function loadCharts({ simd = true } = {}) {
  const key = simd ? 'simd' : 'baseline';
  if (!cache.has(key)) cache.set(key, load(simd));
  return cache.get(key);
}

async function load(simd) {
  const build = simd ? 'simd' : 'baseline';
  try {
    const mod = await import(pkgUrl(build));
    await mod.default();
    const missing = NAMES.filter((n) => typeof mod[n] !== 'function');
    if (missing.length === 0) {
      // serde reads plain arrays most reliably: typed `evals` become arrays first.
      const plain = (layer) => (ArrayBuffer.isView(layer?.evals) ? { ...layer, evals: Array.from(layer.evals) } : layer);
      const arg = (data) => (Array.isArray(data) ? data.map(plain) : plain(data));
      const wrap = (fn) => (data, opts) => normalise(fn(arg(data), opts));
      const plainSeries = (spec) => ({ ...spec, series: (spec?.series ?? []).map((x) => ({ ...x, x: Array.from(x.x ?? []), y: Array.from(x.y ?? []) })) });
      const seriesChart = typeof mod.seriesChart === 'function' ? (spec, opts) => normalise(mod.seriesChart(plainSeries(spec), opts)) : fallback.seriesChart;
      const plainEsd = (spec) => ({ ...spec, base: Array.from(spec?.base ?? []), other: Array.from(spec?.other ?? []) });
      const esdOverlayChart = typeof mod.esdOverlayChart === 'function' ? (spec, opts) => normalise(mod.esdOverlayChart(plainEsd(spec), opts)) : null;
      const heatmapChart = typeof mod.heatmapChart === 'function' ? (spec, opts) => normalise(mod.heatmapChart(spec, opts)) : null;
      return { esdChart: wrap(mod.esdChart), rankChart: wrap(mod.rankChart), alphaChart: wrap(mod.alphaChart), seriesChart, esdOverlayChart, heatmapChart, source: `plotters (${build})` };
    }
  } catch (err) {
    console.warn('[spectralab] chart module failed to load; using the fallback charts:', err);
  }
  return { ...fallback, source: 'fallback' };
}

/** Accepts a Map (serde-wasm-bindgen default) or a plain object. */
function normalise(v) {
  if (v instanceof Map) v = Object.fromEntries([...v].map(([k, x]) => [k, x instanceof Map ? Object.fromEntries(x) : x]));
  return v ?? null;
}
