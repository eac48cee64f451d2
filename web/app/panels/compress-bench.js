// Benchmark helpers of the compress panel, attached to its state for tests/e2e/compress.mjs:
// re-plan latency on a synthetic 200-layer planner, and the truncation curves of the current run
// in one call. Test data and timing only, no numerics of the panel.

/** Spectra of a synthetic model for the re-plan benchmark: `n` layers of transformer-like shapes
 * with power-law Gram eigenvalues (deterministic). Test data, not numerics of the panel. */
function syntheticLayers(n) {
  const shapes = [
    [256, 256],
    [256, 1024],
    [1024, 256],
    [512, 512],
  ];
  let seed = 12345;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  return Array.from({ length: n }, (_, i) => {
    const [rows, cols] = shapes[i % shapes.length];
    const k = Math.min(rows, cols);
    const a = 1.5 + rand();
    const evals = new Float64Array(k);
    for (let j = 0; j < k; j++) evals[j] = (j + 1) ** -a * (0.8 + 0.4 * rand());
    return { name: `synthetic.${i}.weight`, rows, cols, evals };
  });
}

/** Adds `benchSynthetic` and `benchCurves` to the panel's `state` (they use `engine`). */
export function addCompressBench(state, engine) {
  /** Builds a synthetic `n`-layer planner in the worker and times `repeats` re-plans (allocate +
   * compare, as a slider move does): page-side round trips and wasm time. */
  state.benchSynthetic = async (n = 200, repeats = 20, method = 'greedy') => {
    const layers = syntheticLayers(n);
    const t0 = performance.now();
    await engine.call('plannerCreate', 'synthetic', layers);
    const createMs = performance.now() - t0;
    const round = [];
    const wasm = [];
    for (let i = 0; i < repeats; i++) {
      const tgt = { kind: 'fraction', value: 0.05 + (0.9 * i) / Math.max(1, repeats - 1), precision: 'f16' };
      const s = performance.now();
      const [a] = await Promise.all([engine.call('plannerAllocate', 'synthetic', tgt, method), engine.call('plannerCompare', 'synthetic', tgt)]);
      round.push(performance.now() - s);
      wasm.push(a.ms);
      if (a.params > a.budget_params) throw new Error(`synthetic plan over budget at ${tgt.value}`);
    }
    await engine.call('plannerDispose', 'synthetic');
    const sorted = (xs) => xs.slice().sort((a, b) => a - b);
    const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
    return { layers: n, createMs, medianMs: median(round), maxMs: Math.max(...round), medianWasmMs: median(wasm), maxWasmMs: Math.max(...wasm) };
  };
  /** Times the truncation curves of every layer of the current run in one worker call (the
   * analysis no longer competes for the CPU): `{layers, ms (worker), roundTripMs}`. */
  state.benchCurves = async () => {
    const layers = state.layers;
    const t0 = performance.now();
    const { ms } = await engine.request('truncationCurves', [layers]);
    return { layers: layers.length, ms, roundTripMs: performance.now() - t0 };
  };
}
