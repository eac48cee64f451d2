#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with the repository's valid and malformed files of each format.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/{safetensors,npy,npz,gguf,torch,unpickle}
cp tests/fixtures/formats/*.safetensors fuzz/corpus/safetensors/
cp tests/fixtures/formats/*.npy fuzz/corpus/npy/
cp tests/fixtures/formats/*.npz fuzz/corpus/npz/
cp tests/goldens/gguf/*.gguf fuzz/corpus/gguf/
find tests/fixtures/torch -type f \( -name '*.pt' -o -name '*.bin' -o -name '*.pth' \) -exec cp {} fuzz/corpus/torch/ \;
# The pickles inside the torch fixtures seed the unpickler.
python3 - <<'PY'
import glob, os, zipfile
out = "fuzz/corpus/unpickle"
for p in glob.glob("fuzz/corpus/torch/*"):
    try:
        with zipfile.ZipFile(p) as z:
            for n in z.namelist():
                if n.endswith(".pkl"):
                    with open(os.path.join(out, os.path.basename(p) + ".pkl"), "wb") as f:
                        f.write(z.read(n))
    except zipfile.BadZipFile:
        pass
PY
if [ -d tests/fixtures/malformed ]; then
  for f in tests/fixtures/malformed/* tests/fixtures/malformed/corpus/*; do
    case "$f" in
      *.safetensors) cp "$f" fuzz/corpus/safetensors/ ;;
      *.npy) cp "$f" fuzz/corpus/npy/ ;;
      *.npz) cp "$f" fuzz/corpus/npz/ ;;
      *.gguf) cp "$f" fuzz/corpus/gguf/ ;;
      *.pt|*.bin) cp "$f" fuzz/corpus/torch/ ;;
      *.pkl) cp "$f" fuzz/corpus/unpickle/ ;;
    esac
  done
fi
for d in fuzz/corpus/*; do echo "$d: $(ls "$d" | wc -l) files"; done
