// Worker-side RPC methods of the transform explorer (merged into worker.js's METHODS).
// Each method receives (args, ctx) like the core methods; `env` gives the loaded wasm module and
// the worker's helpers. Numeric arrays come back as Float64Array (transferred).
//   transformSpectrum([{signal, n, kind, order?, seed?}]) → {index, magnitude, signal}  (widget contract)
//   transformExplore([{signal, n, kind, order?, seed?}]) → {index, magnitude, signal, curves, n}
//   transformTensors([blob, name]) → [{name, shape, dtype}]
//   transformTensor([blob, name, tensor, {part, index, kind, order?, seed?, maxRows?}])
//     → {signal, index, magnitude, curves, rows, cols, usedRows, part, at, tensor}

/** Whole-matrix work (2-D transforms + SVD) keeps at most this many rows by default. */
const MAX_MATRIX_ROWS = 1024;

const KINDS = ['fft', 'dct', 'wht', 'rht'];

function checkKind(method, kind) {
  if (!KINDS.includes(kind)) throw new Error(`${method}: kind must be one of ${KINDS.join(', ')} (got ${kind})`);
}

/**
 * @param {{wasm: () => any, blobReader: (blob: Blob) => Function, toF64: Function, toU64: Function}} env
 * @returns {Record<string, (args: any[], ctx: {progress: Function}) => any>}
 */
export function transformMethods(env) {
  const { wasm, blobReader, toF64 } = env;
  /** The last tensor read: {blob, name, tensor, data: Float32Array, rows, cols}. */
  let cached = null;

  const curvesOf = (c) => ({ fft: toF64(c.fft), dct: toF64(c.dct), wht: toF64(c.wht), svd: toF64(c.svd), k90: c.k90, k99: c.k99 });

  const spectrum = (spec) => {
    const s = spec ?? {};
    const o = { signal: String(s.signal ?? 'chirp'), n: Number(s.n ?? 1024), kind: String(s.kind ?? 'fft') };
    if (s.order !== undefined) o.order = String(s.order);
    if (s.seed !== undefined) o.seed = Number(s.seed);
    const r = wasm().transformSpectrum(o);
    return { index: toF64(r.index), magnitude: toF64(r.magnitude), signal: toF64(r.signal) };
  };

  function readTensor(blob, name, tensor) {
    if (cached && cached.blob === blob && cached.name === name && cached.tensor === tensor) return cached;
    const r = wasm().loadEmbeddings(blob.size, blobReader(blob), name, tensor ? { tensor } : {});
    cached = { blob, name, tensor: r.tensor, data: r.data, rows: r.rows, cols: r.cols };
    return cached;
  }

  return {
    transformSpectrum: ([spec]) => spectrum(spec),

    transformExplore: ([spec]) => {
      const r = spectrum(spec);
      const curves = curvesOf(wasm().energyCompaction(r.signal, 1, r.signal.length));
      return { ...r, curves, n: r.signal.length };
    },

    transformTensors: ([blob, name]) => {
      if (!(blob instanceof Blob)) throw new Error('transformTensors: expected a File or Blob');
      return wasm().matrixTensors(blob.size, blobReader(blob), String(name ?? (blob.name || 'model')));
    },

    transformTensor: ([blob, name, tensor, options = {}], ctx) => {
      if (!(blob instanceof Blob)) throw new Error('transformTensor: expected a File or Blob');
      const kind = String(options.kind ?? 'fft');
      checkKind('transformTensor', kind);
      const part = String(options.part ?? 'row');
      if (!['row', 'col', 'matrix'].includes(part)) throw new Error(`transformTensor: part must be row, col or matrix (got ${part})`);
      ctx.progress({ what: `reading ${tensor ?? 'tensor'}` });
      const t = readTensor(blob, String(name ?? (blob.name || 'model')), tensor ? String(tensor) : null);
      const { data, rows, cols } = t;
      const vopts = {};
      if (options.order !== undefined) vopts.order = String(options.order);
      if (options.seed !== undefined) vopts.seed = Number(options.seed);
      const out = { rows, cols, part, tensor: t.tensor, at: null, usedRows: rows };
      if (part === 'row' || part === 'col') {
        const limit = part === 'row' ? rows : cols;
        const at = Number(options.index ?? 0);
        if (!Number.isInteger(at) || at < 0 || at >= limit) throw new Error(`transformTensor: ${part} index must be an integer in 0..${limit - 1} (got ${options.index})`);
        let v;
        if (part === 'row') v = Float64Array.from(data.subarray(at * cols, (at + 1) * cols));
        else {
          v = new Float64Array(rows);
          for (let i = 0; i < rows; i++) v[i] = data[i * cols + at];
        }
        const s = wasm().transformVector(v, kind, vopts);
        const curves = curvesOf(wasm().energyCompaction(v, 1, v.length));
        return { ...out, at, signal: v, index: toF64(s.index), magnitude: toF64(s.magnitude), curves };
      }
      // Whole matrix: the first maxRows rows (spectrum = RMS over rows of the row spectra, signal
      // = row norms, computed in wasm).
      const maxRows = Math.max(1, Math.floor(Number(options.maxRows ?? MAX_MATRIX_ROWS)));
      const used = Math.min(rows, maxRows);
      const m = Float64Array.from(data.subarray(0, used * cols));
      ctx.progress({ what: `row spectra and compaction of ${used} rows` });
      const r = wasm().transformMatrix(m, used, cols, kind, vopts);
      return { ...out, usedRows: used, signal: toF64(r.signal), index: toF64(r.index), magnitude: toF64(r.magnitude), curves: curvesOf(r.curves) };
    },
  };
}
