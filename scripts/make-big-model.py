#!/usr/bin/env python3
"""Generates the large test models of the streaming benchmark (nothing here is committed but
this script). Standard library only: entries are random finite floats (sign and mantissa random,
exponent fixed to 2^-7..2^-6, so no NaN/Inf), written in 64 MiB chunks.

    python3 scripts/make-big-model.py OUT_DIR [--scale full|ci]

full (about 7.6 GiB on disk):
  OUT_DIR/big-tensor.safetensors      one F32 tensor `embed.weight` 655360 x 1024 (2.5 GiB)
  OUT_DIR/sharded/                    LLaMA-like BF16 model, 12 layers, hidden 512, two shards
                                      (shard 1 > 4 GiB: a 4194304 x 512 `model.embed_tokens`),
                                      `lm_head` 1048576 x 512, + model.safetensors.index.json
ci (a few MB): the same layout with narrow shapes.
"""
import json, os, struct, sys

CHUNK = 64 << 20

def fill(f, nbytes, item):
    """Writes nbytes of random finite F32 (item=4) or BF16 (item=2) values."""
    # The high byte of each element: keep the sign bit, fix the exponent bits.
    table = bytes(((b & 0x80) | 0x3C) for b in range(256))
    left = nbytes
    while left:
        n = min(CHUNK, left)
        buf = bytearray(os.urandom(n))
        buf[item - 1::item] = bytes(buf[item - 1::item]).translate(table)
        f.write(buf)
        left -= n

def write_safetensors(path, tensors):
    """tensors: [(name, dtype, shape)] in file order."""
    item = {'F32': 4, 'BF16': 2}
    header, off = {}, 0
    for name, dt, shape in tensors:
        n = item[dt]
        for d in shape:
            n *= d
        header[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [off, off + n]}
        off += n
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for name, dt, shape in tensors:
            b, e = header[name]['data_offsets']
            fill(f, e - b, item[dt])
    return off

def main():
    args = sys.argv[1:]
    scale = 'full'
    if '--scale' in args:
        i = args.index('--scale'); scale = args[i + 1]; del args[i:i + 2]
    (out,) = args
    os.makedirs(os.path.join(out, 'sharded'), exist_ok=True)
    if scale == 'full':
        big, hidden, inter, vocab, head, layers = (655360, 1024), 512, 1376, 4194304, 1048576, 12
    else:
        big, hidden, inter, vocab, head, layers = (70000, 16), 32, 88, 60000, 20000, 12
    write_safetensors(os.path.join(out, 'big-tensor.safetensors'), [('embed.weight', 'F32', big)])
    names = []
    for l in range(layers):
        p = f'model.layers.{l}'
        names += [(f'{p}.self_attn.{x}_proj.weight', 'BF16', (hidden, hidden)) for x in 'qkvo']
        names += [(f'{p}.mlp.gate_proj.weight', 'BF16', (inter, hidden)),
                  (f'{p}.mlp.up_proj.weight', 'BF16', (inter, hidden)),
                  (f'{p}.mlp.down_proj.weight', 'BF16', (hidden, inter))]
        names += [(f'{p}.input_layernorm.weight', 'BF16', (hidden,))]
    shard1 = [('model.embed_tokens.weight', 'BF16', (vocab, hidden))] + names[: len(names) * 5 // 6]
    shard2 = names[len(names) * 5 // 6:] + [('model.norm.weight', 'BF16', (hidden,)), ('lm_head.weight', 'BF16', (head, hidden))]
    weight_map, total = {}, 0
    for k, shard in enumerate([shard1, shard2]):
        fname = f'model-{k + 1:05d}-of-00002.safetensors'
        shard = sorted(shard)  # the HF writer's order: by name (layers.10 before layers.2)
        total += write_safetensors(os.path.join(out, 'sharded', fname), shard)
        weight_map.update({n: fname for n, _, _ in shard})
    with open(os.path.join(out, 'sharded', 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': dict(sorted(weight_map.items()))}, f, indent=1)
    print(f'{out}: big tensor {big[0]}x{big[1]} F32; sharded BF16 model {total} bytes')

if __name__ == '__main__':
    main()
