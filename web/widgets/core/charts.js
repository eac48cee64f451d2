// The widgets' chart functions: crate/plot's plotters charts from a wasm instance on the main
// thread (plotters measures text through the DOM, so charts cannot be drawn in the worker). One
// instance per page, shared by every widget, of the spectrum module that the spectrum engine's
// worker also runs (compiled once by spectrumWasm: one download for both). The wrapping is
// web/chart/module.js, shared with the lab page's loader (the widgets do not import the app layer).
import { pkgUrl } from '../../engine/loader.js';
import { spectrumWasm, widgetBuild } from './engine.js';
import { chartFunctions } from '../../chart/module.js';

const KEY = Symbol.for('spectralab.widgets.charts');

/** Resolves to `{esdChart, alphaChart, rankChart, seriesChart, source}` (memoised per page; rejects with the reason). */
export function loadCharts() {
  return (globalThis[KEY] ??= load(widgetBuild()));
}

async function load(build) {
  const { module, wasm } = await spectrumWasm();
  const source = `plotters (${module ? `${module}-` : ''}${build})`;
  try {
    const mod = await import(pkgUrl(build, module));
    await mod.default({ module_or_path: wasm });
    return chartFunctions(mod, source);
  } catch (err) {
    throw new Error(`the chart module (${source}) could not be loaded: ${err?.message ?? err}`);
  }
}
