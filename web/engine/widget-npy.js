// A tiny .npy writer (format v1.0) for in-memory matrices, so the engine's file path (planModel /
// analyzeLayer, which read .npy/.safetensors/.npz through a byte source) can analyse a matrix a
// page holds in memory (the widgets' `matrix` property). Used by worker.js's analyzeMatrix.

/**
 * Wraps a row-major float32 matrix as a `.npy` Blob (little-endian `<f4`, C order).
 * Header: magic `\x93NUMPY`, version 1.0, u16 header length, a Python dict literal padded with
 * spaces and ended by `\n` so that the data starts at a multiple of 64 bytes.
 * @param {Float32Array} data rows·cols values, row-major
 * @param {number} rows
 * @param {number} cols
 * @returns {Blob}
 */
export function npyBlob(data, rows, cols) {
  if (!(data instanceof Float32Array)) throw new Error('matrix data must be a Float32Array');
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0)) {
    throw new Error(`matrix shape must be positive integers, got ${rows}×${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new Error(`matrix data has ${data.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  }
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pre = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const head = new Uint8Array(total);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]); // \x93NUMPY v1.0
  new DataView(head.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) head[pre + i] = header.charCodeAt(i);
  // Float32Array is little-endian on every engine that runs wasm.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Blob([head, bytes], { type: 'application/octet-stream' });
}
