#!/usr/bin/env python3
"""Writes a sharded copy of a safetensors checkpoint, the way Hugging Face's `save_pretrained`
shards one: `model-0000k-of-0000n.safetensors` + `model.safetensors.index.json` (weight_map,
metadata.total_size). Standard library only; tensor bytes are copied as they are.

    python3 scripts/make-sharded.py SRC.safetensors OUT_DIR [--shards 3] [--shuffle-names]

Tensors are split into `--shards` consecutive groups of about equal bytes (in the source's
order); each shard stores its tensors sorted by name, as the safetensors writer does.
"""
import json, os, struct, sys

def read_header(path):
    with open(path, 'rb') as f:
        (n,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(n))
    return header, 8 + n

def main():
    args = sys.argv[1:]
    shards = 3
    if '--shards' in args:
        i = args.index('--shards'); shards = int(args[i + 1]); del args[i:i + 2]
    src, out = args
    header, data_start = read_header(src)
    meta = header.pop('__metadata__', None)
    names = sorted(header, key=lambda k: header[k]['data_offsets'][0])
    total = sum(header[k]['data_offsets'][1] - header[k]['data_offsets'][0] for k in names)
    groups, cur, acc = [], [], 0
    for k in names:
        size = header[k]['data_offsets'][1] - header[k]['data_offsets'][0]
        if cur and acc + size > total / shards * (len(groups) + 1) and len(groups) < shards - 1:
            groups.append(cur); cur = []
        cur.append(k); acc += size
    groups.append(cur)
    os.makedirs(out, exist_ok=True)
    weight_map = {}
    with open(src, 'rb') as f:
        for gi, group in enumerate(groups):
            fname = f'model-{gi + 1:05d}-of-{len(groups):05d}.safetensors'
            hdr, off = {}, 0
            for k in sorted(group):
                b, e = header[k]['data_offsets']
                hdr[k] = {'dtype': header[k]['dtype'], 'shape': header[k]['shape'], 'data_offsets': [off, off + e - b]}
                off += e - b
                weight_map[k] = fname
            if meta is not None:
                hdr['__metadata__'] = meta
            h = json.dumps(hdr, separators=(',', ':')).encode()
            h += b' ' * (-len(h) % 8)
            with open(os.path.join(out, fname), 'wb') as g:
                g.write(struct.pack('<Q', len(h))); g.write(h)
                for k in sorted(group):
                    b, e = header[k]['data_offsets']
                    f.seek(data_start + b); g.write(f.read(e - b))
    with open(os.path.join(out, 'model.safetensors.index.json'), 'w') as g:
        json.dump({'metadata': {'total_size': total}, 'weight_map': dict(sorted(weight_map.items()))}, g, indent=2)
    print(f'{len(groups)} shards, {total} bytes -> {out}')

if __name__ == '__main__':
    main()
