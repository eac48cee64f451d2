// Types of `import 'spectralab/widgets'`: importing registers the custom elements
// <spectral-esd>, <spectral-layers>, <spectral-tradeoff>, <spectral-vendi>, <spectral-transform>.
export declare class SpectralEsd extends HTMLElement {}
export declare class SpectralLayers extends HTMLElement {}
export declare class SpectralTradeoff extends HTMLElement {}
export declare class SpectralVendi extends HTMLElement {}
export declare class SpectralTransform extends HTMLElement {}
/** The engine shared by every widget of the page (one Worker). */
export declare function sharedEngine(): unknown;
/** Loads the chart module (the wasm SVG charts, or the stand-in ones). */
export declare function loadCharts(): Promise<unknown>;
