// What `npx spectralab metrics` and `analyze --plot` add to the Node engine: the median-distance
// bandwidth export (against a naive median of all pairwise distances) and the text measurement
// the Node charts use (against the native charts' rule: DejaVu Sans advances in units of
// ascender − descender, truncated). The CLIs themselves are compared with the native CLI in
// tests/package/pack.test.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { init } from '../../web/engine/node.mjs';
import { measureText, sanitize } from '../../web/engine/node-charts.mjs';

/**
 * Median of the Euclidean distances between the first `m` rows (O(m² d), the definition), with
 * the core's convention for an even count: the upper middle element (`v[len / 2]`).
 */
function naiveMedian(x, rows, cols, m) {
  const d = [];
  for (let i = 0; i < Math.min(rows, m); i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += (x[i * cols + k] - x[j * cols + k]) ** 2;
      d.push(Math.sqrt(s));
    }
  }
  d.sort((a, b) => a - b);
  return d[d.length >> 1];
}

test('medianPairwiseDistance equals the naive median, over the first max_rows rows', async () => {
  const wasm = await init();
  let s = 7;
  const u = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 4 - 2;
  for (const [rows, cols] of [[2, 1], [3, 4], [31, 5], [40, 17]]) {
    const x = Float32Array.from({ length: rows * cols }, u);
    for (const m of [2, 10, 2000]) {
      const got = wasm.medianPairwiseDistance(x, rows, cols, m);
      const want = naiveMedian(x, rows, cols, m);
      // The core forms squared distances from Gram entries: round-off of ~1e-16 · ‖x‖².
      assert.ok(Math.abs(got - want) <= 1e-9 * want, `${rows}×${cols}, max_rows ${m}: ${got} vs ${want}`);
    }
  }
  assert.throws(() => wasm.medianPairwiseDistance(new Float32Array(5), 2, 3, 10), /2|3|5/);
});

test('measureText: Σ DejaVu Sans advances (+ kerning) at size / (ascender − descender)', () => {
  // DejaVu Sans: 'l' advances 569 units, ascender − descender = 2384 units (hhea 1901, −483).
  assert.deepEqual(measureText('', 12), { width: 0, height: 9 });
  assert.equal(measureText('llll', 100).width, Math.trunc((4 * 569 * 100) / 2384));
  assert.equal(measureText('l', 12.4).height, 10);
  // Longer text is never narrower; an unknown character counts as the missing glyph.
  assert.ok(measureText('alpha α = 2.46', 12).width > measureText('alpha', 12).width);
  assert.ok(measureText('\u{1F600}', 12).width > 0);
});

test('sanitize: chart file names as the native CLI writes them', () => {
  assert.equal(sanitize('encoder.layer.0.attention.self.query.weight'), 'encoder.layer.0.attention.self.query.weight');
  assert.equal(sanitize('a/b:c d'), 'a_b_c_d');
  assert.equal(sanitize('.hidden'), '_.hidden');
  assert.equal(sanitize(''), '_');
});
