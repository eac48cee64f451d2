// Types of `import 'spectralab/widgets'`: importing registers the custom elements
// <spectral-esd>, <spectral-layers>, <spectral-tradeoff>, <spectral-vendi>, <spectral-transform>, <spectral-compare>.
export declare class SpectralEsd extends HTMLElement {}
export declare class SpectralLayers extends HTMLElement {}
export declare class SpectralTradeoff extends HTMLElement {}
export declare class SpectralVendi extends HTMLElement {}
export declare class SpectralTransform extends HTMLElement {}
export declare class SpectralCompare extends HTMLElement {}
/** A shared engine: 'spectrum' (esd, layers, compare; the default) or 'full' (tradeoff, transform, vendi). */
export declare function sharedEngine(kind?: 'spectrum' | 'full'): unknown;
/** The spectrum wasm module, compiled once per page (shared by the charts and the worker). */
export declare function spectrumWasm(): Promise<{ module: string; wasm: WebAssembly.Module }>;
/** Loads the chart module (the wasm SVG charts, or the stand-in ones). */
export declare function loadCharts(): Promise<unknown>;
