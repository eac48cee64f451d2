// Feature detection and build selection for the Spectralab wasm engine.
//
// Three builds of the same Rust source live under web/pkg/<variant>/ (see scripts/build-wasm.sh):
//   threads   SIMD128 + shared memory + wasm-bindgen-rayon; needs cross-origin isolation
//   simd      SIMD128, single-threaded (what embedded widgets on foreign pages get)
//   baseline  no SIMD128 (old engines)
// This module has no side effects and touches no DOM, so both the page and the worker import it.

/** Build variants, best first. */
export const BUILDS = Object.freeze(['threads', 'simd', 'baseline']);

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15,
  253, 98, 11,
]);

// (module (memory 1 1 shared) (func i32.const 0 i32.atomic.load drop))
const THREADS_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65,
  0, 254, 16, 2, 0, 26, 11,
]);

function validates(bytes) {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Can this context create a shared wasm memory (SharedArrayBuffer-backed)? */
function sharedMemoryWorks() {
  try {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return mem.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * What this context supports.
 * @returns {{simd: boolean, threads: boolean, crossOriginIsolated: boolean, hardwareConcurrency: number}}
 */
export function detectFeatures() {
  const isolated = globalThis.crossOriginIsolated === true;
  const threads =
    isolated &&
    typeof SharedArrayBuffer !== 'undefined' &&
    typeof Worker !== 'undefined' &&
    validates(THREADS_PROBE) &&
    sharedMemoryWorks();
  return {
    simd: validates(SIMD_PROBE),
    threads,
    crossOriginIsolated: isolated,
    hardwareConcurrency: Math.max(1, Number(globalThis.navigator?.hardwareConcurrency) || 1),
  };
}

/** The builds this context can run, best first (the threaded build also needs SIMD128). */
export function supportedBuilds(features) {
  return BUILDS.filter((b) =>
    b === 'threads' ? features.threads && features.simd : b === 'simd' ? features.simd : true,
  );
}

/**
 * Picks a build: `override` (e.g. from `?build=`) when this context supports it, else the best
 * supported one. An unknown or unsupported override is ignored (see {@link explainChoice}).
 * @returns {'threads'|'simd'|'baseline'}
 */
export function chooseBuild(features, override) {
  const ok = supportedBuilds(features);
  return ok.includes(override) ? override : ok[0];
}

/** A one-line reason for the choice, e.g. for the status line or the console. */
export function explainChoice(features, override) {
  const chosen = chooseBuild(features, override);
  if (override && override !== chosen) {
    const why = !BUILDS.includes(override)
      ? 'unknown build'
      : override === 'threads' && !features.crossOriginIsolated
        ? 'page is not cross-origin isolated'
        : 'not supported here';
    return `requested "${override}" ignored (${why}); using ${chosen}`;
  }
  if (override) return `using ${chosen} (requested with ?build=)`;
  if (chosen === 'threads') return 'threads: auto-selected (cross-origin isolated, SIMD128)';
  if (chosen === 'simd') {
    return features.crossOriginIsolated
      ? 'simd: auto-selected (threads unsupported here)'
      : 'simd: auto-selected (page not cross-origin isolated, so single-threaded)';
  }
  return 'baseline: auto-selected (no SIMD128 support)';
}

/** `?build=` of a query string (or of the current location), or null. */
export function readBuildOverride(search = globalThis.location?.search ?? '') {
  const v = new URLSearchParams(search).get('build');
  return v ? v.trim().toLowerCase() : null;
}

/**
 * Folder of a build under pkg/: `<build>`, or `<module>-<build>` for a reduced module (the
 * widgets' `spectrum` module, scripts/build-dist.sh; single-threaded builds only).
 */
function pkgDir(build, module) {
  if (!BUILDS.includes(build)) throw new Error(`unknown build "${build}"`);
  if (!module) return build;
  if (!/^[a-z]+$/.test(module) || build === 'threads') throw new Error(`unknown module "${module}" for the ${build} build`);
  return `${module}-${build}`;
}

/** URL of the wasm-bindgen JS glue of a build, resolved against this module (not the page). */
export function pkgUrl(build, module = '') {
  return new URL(`../pkg/${pkgDir(build, module)}/spectralab_wasm.js`, import.meta.url).href;
}

/** URL of the .wasm binary of a build. */
export function wasmUrl(build, module = '') {
  return new URL(`../pkg/${pkgDir(build, module)}/spectralab_wasm_bg.wasm`, import.meta.url).href;
}

/** URL of the engine worker module. */
export function workerUrl() {
  return new URL('./worker.js', import.meta.url).href;
}
