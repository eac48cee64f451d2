// Compare through the wasm engine in Node: the synthetic LoRA adapter of tests/goldens/compare
// against its merged checkpoint (the same per-layer numbers, to 1e-6) and the numpy reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareAdapter, compareModels } from '../../web/engine/node.mjs';

const dir = new URL('../goldens/compare/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8'));

test('adapter path = merged checkpoint = numpy reference; a model against itself is unchanged', async () => {
  const seen = [];
  const viaAdapter = await compareAdapter(join(dir, 'base.safetensors'), join(dir, 'adapter'), {}, (done, total, layer) => seen.push([done, total, layer]));
  // Progress: one call per layer before it, then (total, total, '').
  const total = viaAdapter.layers.length;
  assert.deepEqual(seen.map(([d, t]) => [d, t]), [...Array(total + 1).keys()].map((d) => [d, total]));
  assert.deepEqual(seen.slice(0, total).map(([, , n]) => n), viaAdapter.layers.map((l) => l.name));
  const viaMerged = await compareModels(join(dir, 'base.safetensors'), join(dir, 'merged.safetensors'), {});
  const merged = Object.fromEntries(viaMerged.layers.map((l) => [l.name, l]));
  assert.ok(viaAdapter.layers.length >= 4);
  for (const l of viaAdapter.layers) {
    const m = merged[l.name];
    assert.ok(m, `${l.name} in the merged comparison`);
    for (const k of ['delta_rel_fro', 'delta_spectral_norm', 'delta_stable_rank', 'sqnr_db']) {
      assert.ok(Math.abs(l[k] - m[k]) <= 1e-6 * Math.max(1, Math.abs(m[k])), `${l.name}.${k}: ${l[k]} vs ${m[k]}`);
    }
    assert.equal(l.intruders, m.intruders, l.name);
    const g = golden.layers[l.name];
    if (g) assert.ok(Math.abs(l.delta_rel_fro - g.delta_rel_fro) <= 1e-6 * g.delta_rel_fro, `${l.name} vs numpy`);
    // The heatmap crosses the boundary as plain nested arrays, equal to numpy's.
    if (g) g.overlap_matrix.forEach((row, j) => row.forEach((x, i) => assert.ok(Math.abs(l.overlap_matrix[j][i] - x) < 1e-6, `${l.name} overlap[${j}][${i}]`)));
  }
  const q = viaAdapter.layers.find((l) => l.name.includes('q_proj'));
  const v = viaAdapter.layers.find((l) => l.name.includes('v_proj'));
  assert.ok(q.intruders > 0 && v.intruders === 0, `q_proj ${q.intruders}, v_proj ${v.intruders}`);
  const self = await compareModels(join(dir, 'base.safetensors'), join(dir, 'base.safetensors'), {});
  assert.equal(self.summary.intruders, 0);
  assert.ok(self.layers.every((l) => l.delta_rel_fro === 0));
  await assert.rejects(() => compareAdapter(join(dir, 'base.safetensors'), dir, {}), /adapter/);
});
