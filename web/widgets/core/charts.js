// The widgets' chart functions: crate/plot's plotters charts from a wasm instance on the main
// thread (plotters measures text through the DOM, so charts cannot be drawn in the worker). One
// instance per page, shared by every widget, of the spectrum module that the spectrum engine's
// worker also runs (compiled once by spectrumWasm: one download for both); web/chart/fallback.js stands in if it fails to load
// (imported only then, so it is not part of what a page normally downloads).
// (Same contract as web/app/charts.js; the widgets do not import the app layer.)
import { pkgUrl } from '../../engine/loader.js';
import { spectrumWasm, widgetBuild } from './engine.js';

const KEY = Symbol.for('spectralab.widgets.charts');

/** Resolves to `{esdChart, alphaChart, rankChart, seriesChart, source}` (memoised per page). */
export function loadCharts() {
  return (globalThis[KEY] ??= load(widgetBuild()));
}

async function load(build) {
  try {
    const { module, wasm } = await spectrumWasm();
    const mod = await import(pkgUrl(build, module));
    await mod.default({ module_or_path: wasm });
    if (['esdChart', 'alphaChart', 'seriesChart'].every((n) => typeof mod[n] === 'function')) {
      // serde reads plain arrays most reliably: typed arrays become arrays first.
      const plainLayer = (l) => (ArrayBuffer.isView(l?.evals) ? { ...l, evals: Array.from(l.evals) } : l);
      const plainSpec = (s) => ({ ...s, series: (s?.series ?? []).map((x) => ({ ...x, x: Array.from(x.x ?? []), y: Array.from(x.y ?? []) })) });
      return {
        esdChart: (layer, opts) => normalise(mod.esdChart(plainLayer(layer), opts)),
        // Not in the spectrum module (no widget draws a rank plot).
        rankChart: mod.rankChart ? (layer, opts) => normalise(mod.rankChart(plainLayer(layer), opts)) : null,
        alphaChart: (layers, opts) => normalise(mod.alphaChart(layers.map(plainLayer), opts)),
        seriesChart: (spec, opts) => normalise(mod.seriesChart(plainSpec(spec), opts)),
        source: `plotters (${module ? `${module}-` : ''}${build})`,
      };
    }
  } catch (err) {
    console.warn('[spectralab] chart module failed to load; using the fallback charts:', err);
  }
  const fallback = await import('../../chart/fallback.js');
  return { ...fallback, source: 'fallback' };
}

function normalise(v) {
  if (v instanceof Map) v = Object.fromEntries([...v].map(([k, x]) => [k, x instanceof Map ? Object.fromEntries(x) : x]));
  return v ?? null;
}
