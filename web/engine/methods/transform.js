// Worker-side RPC methods of the transform panel (merged into worker.js's METHODS).
// Each method receives (args, ctx) like the core methods; `env` gives the loaded wasm module and
// the worker's helpers.

/**
 * @param {{wasm: () => any, blobReader: (blob: Blob) => Function, toF64: Function, toU64: Function}} env
 * @returns {Record<string, (args: any[], ctx: {progress: Function}) => any>}
 */
export function transformMethods(env) {
  void env;
  return {};
}
