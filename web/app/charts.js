// Chart provider for the page's main thread. crate/plot draws with plotters, which measures text
// through the DOM (it panics in Workers), so the charts come from a second wasm instance — the
// single-threaded SIMD (or baseline) build — loaded here. Until the build exports the charts,
// web/chart/fallback.js stands in with the same signatures.
import { pkgUrl } from '../engine/loader.js';
import * as fallback from '../chart/fallback.js';

const NAMES = ['esdChart', 'rankChart', 'alphaChart'];

/**
 * Loads the chart functions. Resolves to `{esdChart, rankChart, alphaChart, source}` where
 * `source` is 'plotters (<build>)' or 'fallback'.
 */
export async function loadCharts({ simd = true } = {}) {
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
      return { esdChart: wrap(mod.esdChart), rankChart: wrap(mod.rankChart), alphaChart: wrap(mod.alphaChart), source: `plotters (${build})` };
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
