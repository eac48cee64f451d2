// Worker-side RPC methods of the compress panel (merged into worker.js's METHODS).
// Each method receives (args, ctx) like the core methods; `env` gives the loaded wasm module and
// the worker's helpers.
//
//   Layers are [{name, rows, cols, evals}] or, for the open model's layers, [{name, rows, cols,
//   index}]: the ESD of plan position `index` is then taken from the model in this worker (it
//   never crosses to the page).
//   truncationCurves([layers])                 → [{name, rows, cols,
//                                              totalEnergy, denseParams, breakEven, maxSavingRank,
//                                              energyRanks, rank, relFroError, spectralError,
//                                              retainedEnergy, params, bytesF32, bytesF16,
//                                              bytesInt8, bytesInt4}] (columns as Float64Array)
//   plannerCreate([key, layers])               builds a CompressPlanner kept under `key` → {key, length, denseParams, ms}
//   plannerAllocate([key, target, method, objective?]) → the allocation (+ `ms`: wasm time)
//   plannerCompare([key, target, objective?])  → [allocation totals per method]
//   plannerPlanJson([key])                     → '{"tensor": rank, …}' of the last allocate
//   plannerDispose([key])
//   tradeoffCurves([blob, name, tensor, options]) → {tensor, rows, cols, series: [{method, param,
//                                              bytes, error}], pareto: {…}} (Float64Arrays)

/**
 * @param {{wasm: () => any, blobReader: (blob: Blob) => Function, toF64: Function, toU64: Function, modelEvals: (index: number) => Float64Array}} env
 * @returns {Record<string, (args: any[], ctx: {progress: Function}) => any>}
 */
export function compressMethods(env) {
  const { toF64 } = env;
  /** key → CompressPlanner (wasm object; freed on replace / dispose). */
  const planners = new Map();
  const planner = (key) => {
    const p = planners.get(String(key));
    if (!p) throw new Error(`no compress planner "${key}" (call plannerCreate first)`);
    return p;
  };
  /** Layers with their ESDs: given, or the open model's (by plan index). */
  const withEvals = (layers) => layers.map((l) => (l && l.evals == null && Number.isInteger(l.index) ? { ...l, evals: env.modelEvals(l.index) } : l));
  const seriesF64 = (s) => ({ ...s, param: toF64(s.param), bytes: toF64(s.bytes), error: toF64(s.error) });

  return {
    truncationCurves: ([layers]) => {
      if (!Array.isArray(layers)) throw new Error('truncationCurves: expected [{name, rows, cols, evals}]');
      return withEvals(layers).map((l) => {
        const c = env.wasm().truncationCurve(toF64(l.evals), l.rows, l.cols);
        return {
          ...c,
          name: l.name,
          rank: toF64(c.rank),
          relFroError: toF64(c.relFroError),
          spectralError: toF64(c.spectralError),
          retainedEnergy: toF64(c.retainedEnergy),
          params: toF64(c.params),
          bytesF32: toF64(c.bytesF32),
          bytesF16: toF64(c.bytesF16),
          bytesInt8: toF64(c.bytesInt8),
          bytesInt4: toF64(c.bytesInt4),
        };
      });
    },

    plannerCreate: ([key, layers]) => {
      const t0 = performance.now();
      const p = new (env.wasm().CompressPlanner)(Array.isArray(layers) ? withEvals(layers) : layers);
      planners.get(String(key))?.free();
      planners.set(String(key), p);
      return { key: String(key), length: p.length, denseParams: p.denseParams, ms: performance.now() - t0 };
    },

    plannerAllocate: ([key, target, method = 'greedy', objective]) => {
      const t0 = performance.now();
      const a = planner(key).allocate(target, String(method), objective ?? undefined);
      return { ...a, ms: performance.now() - t0 };
    },

    plannerCompare: ([key, target, objective]) => planner(key).compare(target, objective ?? undefined),

    plannerPlanJson: ([key]) => planner(key).planJson(),

    plannerDispose: ([key]) => {
      planners.get(String(key))?.free();
      return planners.delete(String(key));
    },

    /** (blob, name, tensor, options) → {series: [{method, bytes: Float64Array, error: Float64Array}], pareto} */
    tradeoffCurves: ([blob, name, tensor, options]) => {
      if (!(blob instanceof Blob)) throw new Error('tradeoffCurves: expected a File or Blob');
      if (typeof tensor !== 'string' || !tensor) throw new Error('tradeoffCurves: expected a tensor name');
      const fileName = String(name ?? (blob.name || 'model'));
      const r = env.wasm().tradeoffCurves(blob.size, env.blobReader(blob), fileName, tensor, options ?? {});
      return { ...r, series: r.series.map(seriesF64), pareto: seriesF64(r.pareto) };
    },
  };
}
