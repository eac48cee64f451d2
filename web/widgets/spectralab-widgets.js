// Spectralab widgets: one script defines every element.
//   <script type="module" src="…/spectralab-widgets.js"></script>
//   <spectral-esd src="model.safetensors" tensor="encoder.layer.0.attention.self.query.weight"></spectral-esd>
// All widgets of a page share one engine Worker (single-threaded SIMD build, baseline without
// SIMD128) and one chart module; no cross-origin isolation is needed, and the files may be served
// from another origin (with Access-Control-Allow-Origin). See README "Widgets".
export { SpectralEsd } from './spectral-esd.js';
export { SpectralLayers } from './spectral-layers.js';
export { SpectralTradeoff } from './spectral-tradeoff.js';
export { SpectralVendi } from './spectral-vendi.js';
export { SpectralTransform } from './spectral-transform.js';
export { SpectralCompare } from './spectral-compare.js';
export { sharedEngine, spectrumWasm } from './core/engine.js';
export { loadCharts } from './core/charts.js';
