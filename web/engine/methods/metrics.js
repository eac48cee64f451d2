// Worker-side RPC methods of the metrics panel (merged into worker.js's METHODS).
// Each method receives (args, ctx) like the core methods; `env` gives the loaded wasm module and
// the worker's helpers. Embeddings travel as {data: Float32Array, rows, cols}; results' numeric
// arrays come back as Float64Array (transferred).

const TEXT_EXT = /\.(csv|tsv|txt)$/i;

/** Fresh Float32Array that owns its buffer (so the reply can transfer it). */
const ownF32 = (a) => (a instanceof Float32Array ? a : Float32Array.from(a ?? []));

function checkMatrix(method, data, rows, cols) {
  if (!(data instanceof Float32Array)) throw new Error(`${method}: data must be a Float32Array`);
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`${method}: rows and cols must be positive integers (got ${rows} × ${cols})`);
  }
}

/**
 * Text labels (one per line, or the first column of a CSV/TSV; an optional header line): numbers
 * stay numbers, other strings become class ids 0, 1, … in order of appearance.
 */
function parseTextLabels(text) {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const first = (l) => l.split(/[\t,;]/)[0].trim().replace(/^"(.*)"$/, '$1');
  let cells = lines.map(first);
  const numeric = (s) => s !== '' && Number.isFinite(Number(s));
  // A non-numeric first cell followed by numeric ones is a header.
  if (cells.length > 1 && !numeric(cells[0]) && cells.slice(1).every(numeric)) cells = cells.slice(1);
  if (cells.length === 0) throw new Error('the labels file has no labels');
  if (cells.every(numeric)) {
    const v = Float64Array.from(cells, Number);
    const bad = v.findIndex((x) => !Number.isInteger(x));
    if (bad >= 0) throw new Error(`label ${bad} is ${cells[bad]}, not an integer`);
    return { labels: v, names: null };
  }
  const ids = new Map();
  const labels = Float64Array.from(cells, (c) => {
    if (!ids.has(c)) ids.set(c, ids.size);
    return ids.get(c);
  });
  return { labels, names: [...ids.keys()] };
}

/**
 * @param {{wasm: () => any, blobReader: (blob: Blob) => Function, toF64: Function, toU64: Function}} env
 * @returns {Record<string, (args: any[], ctx: {progress: Function}) => any>}
 */
export function metricsMethods(env) {
  const { wasm, blobReader, toF64 } = env;
  return {
    /**
     * (blob, name, {tensor?}) → {data: Float32Array, rows, cols, tensor, tensors, header}.
     * .npy/.npz/.safetensors are read by byte range; .csv/.tsv/.txt are parsed as text.
     */
    loadEmbeddings: async ([blob, name, options]) => {
      if (!(blob instanceof Blob)) throw new Error('loadEmbeddings: expected a File or Blob');
      const fileName = String(name ?? (blob.name || 'embeddings'));
      if (TEXT_EXT.test(fileName)) {
        const t = wasm().parseTable(await blob.text());
        return { data: ownF32(t.data), rows: t.rows, cols: t.cols, header: t.header ?? null, tensor: null, tensors: [] };
      }
      const opts = options?.tensor ? { tensor: String(options.tensor) } : {};
      const r = wasm().loadEmbeddings(blob.size, blobReader(blob), fileName, opts);
      return { data: ownF32(r.data), rows: r.rows, cols: r.cols, tensor: r.tensor, tensors: r.tensors, header: null };
    },

    /** (text) → {data: Float32Array, rows, cols, header}. */
    parseTable: ([text]) => {
      const t = wasm().parseTable(String(text ?? ''));
      return { data: ownF32(t.data), rows: t.rows, cols: t.cols, header: t.header ?? null };
    },

    /** (blob, name) → {labels: Float64Array, names: string[] | null} from .npy/.npz or text. */
    loadLabels: async ([blob, name]) => {
      if (!(blob instanceof Blob)) throw new Error('loadLabels: expected a File or Blob');
      const fileName = String(name ?? (blob.name || 'labels'));
      if (TEXT_EXT.test(fileName) || /\.json$/i.test(fileName)) {
        const text = await blob.text();
        if (/\.json$/i.test(fileName)) return parseTextLabels(JSON.parse(text).map(String).join('\n'));
        return parseTextLabels(text);
      }
      return { labels: toF64(wasm().readLabels(blob.size, blobReader(blob), fileName)), names: null };
    },

    /** (data, rows, cols, {kernel: 'cosine', qs?, bandwidth?}) → {q: Float64Array, vendi: Float64Array, rank, n, d, bandwidth}. */
    vendiProfile: ([data, rows, cols, options]) => {
      checkMatrix('vendiProfile', data, rows, cols);
      const r = wasm().vendiProfile(data, rows, cols, options ?? {});
      return { ...r, q: toF64(r.q), vendi: toF64(r.vendi) };
    },

    /** (data, rows, cols, {kernel, q, bandwidth}) → {q, score, entropy, rank, path, n, d}. */
    vendiScore: ([data, rows, cols, options]) => {
      checkMatrix('vendiScore', data, rows, cols);
      return wasm().vendiScore(data, rows, cols, options ?? {});
    },

    /**
     * (data, rows, cols, labels, {kernel, bandwidth, qs?}) → {all, classes: [{label, count, score,
     * profile?: {q, vendi}}]}; with `qs`, each class also gets its cosine q-profile (and `all` too).
     */
    vendiPerClass: ([data, rows, cols, labels, options = {}], ctx) => {
      checkMatrix('vendiPerClass', data, rows, cols);
      const { qs, ...vopts } = options;
      const labelsF64 = toF64(labels);
      const r = wasm().vendiPerClass(data, rows, cols, labelsF64, vopts);
      if (qs) {
        const pOpts = { ...vopts, qs: Array.from(qs) };
        delete pOpts.q;
        const all = wasm().vendiProfile(data, rows, cols, pOpts);
        r.allProfile = { q: toF64(all.q), vendi: toF64(all.vendi) };
        r.classes.forEach((c, k) => {
          ctx.progress({ done: k, total: r.classes.length, what: `class ${c.label}` });
          const idx = [];
          for (let i = 0; i < labelsF64.length; i++) if (labelsF64[i] === c.label) idx.push(i);
          const sub = new Float32Array(idx.length * cols);
          idx.forEach((row, j) => sub.set(data.subarray(row * cols, (row + 1) * cols), j * cols));
          const p = wasm().vendiProfile(sub, idx.length, cols, pOpts);
          c.profile = { q: toF64(p.q), vendi: toF64(p.vendi) };
        });
      }
      return r;
    },

    /** (data, rows, cols, options) → MetricsReport (snake_case fields; `spectrum` as Float64Array). */
    metricsReport: ([data, rows, cols, options], ctx) => {
      checkMatrix('metricsReport', data, rows, cols);
      ctx.progress({ what: 'metrics' });
      const r = wasm().metricsReport(data, rows, cols, options ?? {});
      return { ...r, spectrum: toF64(r.spectrum) };
    },

    /**
     * (blob, name, {maxTensors = 200}) → [{name, rows, cols, matrixEntropy, erank, stableRank,
     * royVetterliErank, error}]: per-tensor matrix metrics of a model file, with progress.
     */
    modelTensorMetrics: ([blob, name, options = {}], ctx) => {
      if (!(blob instanceof Blob)) throw new Error('modelTensorMetrics: expected a File or Blob');
      const read = blobReader(blob);
      const fileName = String(name ?? (blob.name || 'model'));
      const list = wasm().matrixTensors(blob.size, read, fileName).slice(0, options.maxTensors ?? 200);
      return list.map((t, i) => {
        ctx.progress({ done: i, total: list.length, what: t.name });
        try {
          return wasm().tensorMetrics(blob.size, read, fileName, t.name);
        } catch (err) {
          return { name: t.name, rows: null, cols: null, error: err?.message ?? String(err) };
        }
      });
    },
  };
}
