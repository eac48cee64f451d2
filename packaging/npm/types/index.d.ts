// Types of the Node API (`import { analyzeFile, openModel } from 'spectralab'`), the wasm engine
// in Node: engine/node.mjs.

/** Options of an analysis (camelCase; unknown keys are errors). */
export interface AnalyzeOptions {
  farms?: boolean;
  mpFit?: boolean;
  randomize?: boolean;
  seed?: number;
  fixFingers?: 'clip_xmax' | 'xmin_peak';
  fit?: 'PL' | 'TPL' | 'E_TPL' | string;
  /** Keep the layers whose name contains one of these parts (or whose layer_id equals one). */
  layers?: string[];
  xmax?: number;
  fast?: boolean;
  minEvals?: number;
  maxEvals?: number;
  maxN?: number;
  parallel?: boolean;
}

/** One analysed layer: WeightWatcher's columns (and ours). `null` where undefined. */
export interface LayerReport {
  layer_id: number;
  name: string;
  layer_type: string;
  N: number;
  M: number;
  rf: number;
  Q: number;
  num_evals: number;
  sv_max: number;
  sv_min: number;
  rank_loss: number;
  weak_rank_loss: number;
  lambda_max: number;
  alpha: number | null;
  xmin: number | null;
  xmax: number | null;
  D: number | null;
  sigma: number | null;
  num_pl_spikes: number | null;
  Lambda: number | null;
  /** `success`, `failed` (the fit failed) or `error` (the layer could not be analysed). */
  status: 'success' | 'failed' | 'error' | string;
  /**
   * WeightWatcher's `over-trained` / `under-trained` (or empty), then `;`-separated
   * `degenerate:alpha-inf`, `degenerate:few-tail`, `degenerate:entropy-range`,
   * `degenerate:alpha-norm-inf` where the numbers are formally valid but meaningless.
   */
  warning: string;
  norm: number;
  log_norm: number;
  spectral_norm: number;
  log_spectral_norm: number;
  alpha_weighted: number | null;
  log_alpha_norm: number | null;
  stable_rank: number;
  matrix_rank: number;
  entropy: number;
  num_fingers: number | null;
  raw_alpha: number | null;
  alpha_hill: number | null;
  farms: { alpha: number; D: number; num_windows: number; [k: string]: unknown } | null;
  mp: {
    num_spikes: number;
    sigma_mp: number;
    mp_softrank: number;
    W_scale: number;
    bulk_max: number;
    bulk_min: number;
    [k: string]: unknown;
  } | null;
  rand: { max_rand_eval: number; rand_distance: number; ww_softrank: number; ww_maxdist: number; [k: string]: unknown } | null;
  num_traps: number | null;
  reason: string | null;
}

/** A tensor of the layer walk: analysed, or skipped with the reason in `skip`. */
export interface LayerPlan {
  index: number;
  layer_id: number;
  name: string;
  shape: number[];
  kind: string | null;
  N: number;
  M: number;
  rf: number;
  skip: string | null;
}

export interface Summary {
  log_norm: number;
  alpha: number;
  alpha_weighted: number;
  log_alpha_norm: number;
  log_spectral_norm: number;
  stable_rank: number;
  mp_softrank: number | null;
  farms_alpha: number | null;
}

export interface ModelReport {
  layers: LayerReport[];
  skipped: LayerPlan[];
  summary: Summary;
  /** With `analyzeFile(…, { csv: true })`: the native CLI's CSV of this report. */
  csv?: string;
  /** Remote models: range requests made, bytes fetched, total size of the model's files. */
  download?: DownloadStats;
  /** With `analyzeFile(…, { plot: dir })`: the SVG charts written (see `writeModelCharts`). */
  charts?: ChartFiles;
}

/** The SVG files of `writeModelCharts` and the charts that could not be drawn (one line each). */
export interface ChartFiles {
  files: string[];
  problems: string[];
}

/** Byte counters of a remote model (`hf://org/name`, an https URL). */
export interface DownloadStats {
  requests: number;
  bytes: number;
  size: number;
}

/** Options that apply to remote models only (`hf://org/name[@rev][/file]`, an http(s) URL). */
export interface RemoteOptions {
  /** Hub endpoint for `hf://` ids: default $HF_ENDPOINT, then https://huggingface.co. */
  endpoint?: string;
  /** Called after every range request. */
  onFetch?: (stats: DownloadStats) => void;
}

export interface ModelInfo {
  name: string;
  format: string;
  shards: number;
  bytes: number;
  tensors: number;
  parameters: number;
  dtypes: Record<string, number>;
  notes: string[];
  [k: string]: unknown;
}

/** The wasm handle of an opened model (see `openModel`). */
export interface Model {
  info(): ModelInfo;
  plan(): LayerPlan[];
  dtypes(): string[];
  todo(): Uint32Array;
  setOptions(options: AnalyzeOptions): void;
  /** Analyses the layers at these plan positions; rows in that order (errors are rows). */
  analyze(positions: Uint32Array | number[], keepEvals: boolean): LayerReport[];
  report(): ModelReport;
  reportCsv(): string;
  evals(position: number): Float64Array | undefined;
  isStreamed(position: number): boolean;
  free(): void;
}

/** Progress weights: the element counts of the layers done and of all layers to analyse. */
export interface ProgressSize {
  doneSize: number;
  totalSize: number;
}

/**
 * Called before each layer and once at the end. Return `false` to stop early; an exception
 * thrown here propagates out of `analyzeFile` (the model is closed first).
 */
export type ProgressCallback = (done: number, total: number, layerName: string, size: ProgressSize) => boolean | void;

/** Instantiates the wasm engine once (`'simd'`, the default, or `'baseline'`). */
export function init(build?: 'simd' | 'baseline'): Promise<unknown>;

/** Build information of the loaded module (`simd`, `gramKernel`, …). */
export function buildInfo(): Promise<{ simd: boolean; gramKernel: string; [k: string]: unknown }>;

/** Bytes of the engine's wasm memory now (its high-water mark: wasm memory never shrinks). */
export function wasmMemoryBytes(): number;

/** The files of a model: one file, a folder of shards, an index file, or a list of paths. */
export function modelFiles(path: string | string[]): string[];

/**
 * Opens a model for positioned reads; call `close()` when done. `path` may be a remote model
 * (`hf://org/name[@rev]`, `hf://org/name/file`, an https `…/resolve/<rev>/<file>` URL), read by
 * HTTP range requests; `download()` then gives its counters (null for local files).
 */
export function openModel(
  path: string | string[],
  options?: AnalyzeOptions & RemoteOptions,
): Promise<{ model: Model; close(): void; download(): DownloadStats | null }>;

/** Eigenspectrum analysis of a model, tensor by tensor (the file is never read whole). */
export function analyzeFile(
  path: string | string[],
  options?: AnalyzeOptions & RemoteOptions,
  onProgress?: ProgressCallback,
  extra?: { csv?: boolean; plot?: string },
): Promise<ModelReport>;

/**
 * Writes the native CLI's `analyze --plot DIR` charts of an opened, analysed model into `dir`:
 * `alpha.svg` and, per analysed layer, `esd_<layer>.svg` and `rank_<layer>.svg` (`<layer>`: the
 * name with every character outside `[A-Za-z0-9._-]` replaced by `_`).
 */
export function writeModelCharts(model: Model, dir: string): Promise<ChartFiles>;

/** Options of `compressFile` (the flags of `spectralab compress`). */
export interface CompressOptions {
  /** `'50%'` (of the dense parameters; the default) or a byte count at `dtype`. */
  budget?: string | number;
  /** Instead of a budget: the fewest parameters with model relative Frobenius error ≤ this. */
  error?: number | string;
  method?: 'uniform' | 'energy' | 'greedy' | 'welore';
  objective?: 'absolute' | 'relative';
  dtype?: 'f32' | 'f16' | 'int8' | 'int4';
}

export interface LayerAllocation {
  name: string;
  rows: number;
  cols: number;
  /** Kept rank (`min(rows, cols)` when dense). */
  rank: number;
  /** Stored dense (factors would not save bytes). */
  dense: boolean;
  /** Stored numbers: `rank·(rows + cols)`, or `rows·cols` when dense. */
  params: number;
  /** `√(tail(rank) / ‖W‖²)`. */
  rel_fro_error: number;
}

/** The rank plan of `compressFile`: the native `spectralab compress --format json`, plus extras. */
export interface CompressResult {
  method: 'uniform' | 'energy' | 'greedy' | 'welore';
  objective: 'absolute' | 'relative';
  knob: number | null;
  budget_params: number | null;
  layers: LayerAllocation[];
  params: number;
  dense_params: number;
  model_rel_error: number;
  rms_layer_rel_error: number;
  objective_value: number;
  dtype: 'f32' | 'f16' | 'int8' | 'int4';
  /** Bytes of the plan with every number stored at `dtype`. */
  bytes: number;
  dense_bytes: number;
  /** `{tensor: rank}`. */
  plan: Record<string, number>;
  /** Not in the native JSON: tensors not planned (conv weights, unreadable), and why. */
  skipped: { name: string; reason: string }[];
  /** Not in the native JSON: every method's totals at the same target (no `layers`). */
  methods: Record<string, unknown>[];
  /** Not in the native JSON: the `--plan` file's text (`{tensor: rank}`, pretty JSON). */
  planJson: string;
}

/**
 * A per-layer rank plan of a model file under a budget (`spectralab compress`): each dense 2-D
 * weight's ESD, then the allocation. `onProgress(done, total, layer)` is called before each
 * layer and once at the end; an exception it throws propagates.
 */
export function compressFile(
  path: string,
  options?: CompressOptions,
  onProgress?: (done: number, total: number, layerName: string) => void,
): Promise<CompressResult>;

/**
 * A llama.cpp type per 2-D weight under a size budget (`spectralab compress --quant-plan`):
 * `budget` in bits per weight (`4.8`, `'4.8bpw'`) or `{bytes}`. Returns the native JSON
 * (`{plan: {name, layers: [{name, ggml_type, bytes, rel_fro_error}], bytes, bits_per_weight,
 * model_rel_error}, recipes, curve, min_bits_per_weight, max_bits_per_weight, layers, file_mix,
 * plan_json, tensor_type_args}`) plus `format` (the model's file format).
 */
export function quantPlanFile(
  path: string | string[],
  budget: number | string | { bytes: number },
  onProgress?: (done: number, total: number, layerName: string) => void,
): Promise<Record<string, unknown> & { plan_json: string; tensor_type_args: string[]; format: string }>;

/** Options of `embeddingMetrics` (the flags of `spectralab metrics`). */
export interface EmbeddingMetricsOptions {
  /** The tensor of a `.npz`/`.safetensors` (default: the first with ≥ 2 dimensions). */
  tensor?: string;
  /** A 1-D integer label file (`.npy`, `.npz`, `.safetensors`): adds Vendi (q = 1) per class. */
  labels?: string;
  /** Vendi orders (default `[0, 0.5, 1, 2, Infinity]`; a comma-separated string also works). */
  q?: number[] | string;
  kernel?: 'cosine' | 'linear' | 'rbf';
  /** RBF bandwidth, or `'median'` (median pairwise distance of the first 2000 rows). */
  bandwidth?: number | 'median' | string;
}

/** The result of `embeddingMetrics` (the native `spectralab metrics --format json`). */
export interface EmbeddingMetrics {
  file: string;
  /** The tensor read, or `'table'` for CSV/TSV input. */
  tensor: string;
  kernel: string;
  bandwidth: number | null;
  /** Vendi at each order; `q` as the native CLI writes it (`'0.5'`, `'inf'`). */
  vendi: { q: string; score: number }[];
  /** `spectralab_core::metrics::MetricsReport` (snake_case; undefined metrics are null). */
  report: {
    n: number;
    d: number;
    notes: string[];
    [metric: string]: unknown;
  };
  per_class: { all: Record<string, unknown>; classes: { label: number; count: number; score: number }[] } | null;
}

/** Entropy and diversity metrics of a set of embeddings (`spectralab metrics`). */
export function embeddingMetrics(path: string, options?: EmbeddingMetricsOptions): Promise<EmbeddingMetrics>;

/** Reads an embedding matrix (`.npy`, `.npz`, `.safetensors`, CSV/TSV): rows = items. */
export function loadEmbeddingFile(
  path: string,
  options?: { tensor?: string },
): Promise<{ data: Float32Array; rows: number; cols: number; tensor: string }>;

/** A number as Rust's `{}` formats an f64 (the native CLI's CSV cells). */
export function rustNumber(x: number): string;

/** Whether `path` names a remote model (`hf://…` or an http(s) URL). */
export function isRemote(path: string): boolean;
