// The chart functions of a loaded wasm module (crate/plot's plotters charts, exported by
// crate/wasm/src/charts.rs), wrapped for JS callers: typed arrays become plain arrays (serde
// reads those most reliably) and Map results become plain objects. Shared by the lab page's
// loader (web/app/charts.js) and the widgets' (web/widgets/core/charts.js).

/** Accepts a Map (serde-wasm-bindgen's default) or a plain object. */
export function normalise(v) {
  if (v instanceof Map) v = Object.fromEntries([...v].map(([k, x]) => [k, x instanceof Map ? Object.fromEntries(x) : x]));
  return v ?? null;
}

const plainLayer = (l) => (ArrayBuffer.isView(l?.evals) ? { ...l, evals: Array.from(l.evals) } : l);
const plainSeries = (s) => ({ ...s, series: (s?.series ?? []).map((x) => ({ ...x, x: Array.from(x.x ?? []), y: Array.from(x.y ?? []) })) });
const plainEsd = (s) => ({ ...s, base: Array.from(s?.base ?? []), other: Array.from(s?.other ?? []) });

/**
 * `{esdChart, rankChart, alphaChart, seriesChart, esdOverlayChart, heatmapChart, source}` of `mod`;
 * a chart the module does not export is null (the widgets' spectrum module has no rank, overlay or
 * heatmap charts). Throws if one of `required` is missing.
 * @param {object} mod the initialised wasm-bindgen module
 * @param {string} source a label for the status lines, e.g. 'plotters (simd)'
 * @param {string[]} required export names the caller cannot do without
 */
export function chartFunctions(mod, source, required = ['esdChart', 'alphaChart', 'seriesChart']) {
  const missing = required.filter((n) => typeof mod[n] !== 'function');
  if (missing.length) throw new Error(`the chart module (${source}) does not export ${missing.join(', ')}`);
  const wrap = (name, plain) => (typeof mod[name] === 'function' ? (data, opts) => normalise(mod[name](plain(data), opts)) : null);
  const layers = (d) => (Array.isArray(d) ? d.map(plainLayer) : plainLayer(d));
  return {
    esdChart: wrap('esdChart', layers),
    rankChart: wrap('rankChart', layers),
    alphaChart: wrap('alphaChart', layers),
    seriesChart: wrap('seriesChart', plainSeries),
    esdOverlayChart: wrap('esdOverlayChart', plainEsd),
    heatmapChart: wrap('heatmapChart', (s) => s),
    source,
  };
}
