// How a model reaches the lab: the file and folder pickers, drag-and-drop anywhere on the page
// (files, or a folder walked recursively), a same-origin URL (the example, `?src=`), and the
// synthetic model generated in the engine. Each ends in the lab's `open(blob | File[], name, kind)`.
export const EXAMPLE_URL = new URL('examples/minilm-l6-encoder-f16.safetensors', document.baseURI).href;
const ACCEPT = /\.(safetensors|npy|npz|bin|pt|pth|gguf)$/i;
/** Files of a sharded checkpoint: shards and the Hugging Face index. */
const SHARD_FILE = /(\.safetensors|\.index\.json)$/i;

/**
 * Wires the lab's inputs. `open` starts a run; `showError` / `setBusy` are the lab's.
 * @returns {{openUrl: (url: string, kind: string) => Promise<void>, openSynthetic: (seed?: number) => Promise<void>, openFiles: (files: File[]) => void}}
 */
export function wireLabSources({ ui, lab, engine, open, showError, setBusy }) {
  function openFiles(files) {
    const list = [...files].filter((f) => SHARD_FILE.test(f.name) || ACCEPT.test(f.name));
    if (!list.length) {
      showError(`No model file among ${files.length} file(s): expected a .safetensors, .npy, .npz, GGUF or PyTorch (.bin, .pt) file, or shards with their *.index.json.`);
      return;
    }
    if (list.length === 1 && !/\.index\.json$/i.test(list[0].name)) {
      openFile(list[0]);
      return;
    }
    const index = list.find((f) => /\.index\.json$/i.test(f.name));
    const dir = (list[0].webkitRelativePath || '').split('/')[0];
    const name = index ? index.name : dir || `${list.length} files`;
    open(list, list.length === 1 ? list[0].name : name, 'folder');
  }

  async function openUrl(url, kind) {
    const u = new URL(url, document.baseURI);
    const name = decodeURIComponent(u.pathname.split('/').pop() || 'model');
    if (u.origin !== location.origin) {
      showError(`Refusing to open ${u.href}: only files from this site (${location.origin}) can be opened with ?src=.`);
      lab.status = 'error';
      return;
    }
    setBusy(true);
    showError('');
    ui.source.textContent = `fetching ${name}…`;
    try {
      const res = await fetch(u.href);
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
      const blob = await res.blob(); // kept by the browser; the worker reads it by slices
      await open(blob, name, kind);
    } catch (err) {
      lab.status = 'error';
      lab.error = err.message;
      showError(`Could not fetch ${name}: ${err.message}`);
      setBusy(false);
    }
  }

  /** Generates the synthetic model (known spectra) in the worker and opens it like a file. */
  async function openSynthetic(seed = 1) {
    setBusy(true);
    showError('');
    ui.source.textContent = 'generating the synthetic model…';
    try {
      await engine.ready;
      const bytes = await engine.call('call', 'syntheticModel', seed);
      await open(new Blob([bytes]), 'synthetic.safetensors', 'synthetic');
    } catch (err) {
      lab.status = 'error';
      lab.error = err.message;
      showError(`Could not generate the synthetic model: ${err.message}`);
      setBusy(false);
    }
  }

  function openFile(file) {
    if (!file) return;
    if (!ACCEPT.test(file.name)) {
      showError(`${file.name}: not a .safetensors, .npy, .npz, GGUF or PyTorch (.bin, .pt) file.`);
      return;
    }
    open(file, file.name, 'file');
  }

  ui.file.addEventListener('change', () => {
    const files = [...(ui.file.files ?? [])];
    if (files.length > 1) openFiles(files);
    else openFile(files[0]);
    ui.file.value = '';
  });
  ui.folder?.addEventListener('change', () => {
    const files = [...(ui.folder.files ?? [])];
    if (files.length) openFiles(files);
    else showError('The folder is empty.');
    ui.folder.value = '';
  });
  ui.example.addEventListener('click', () => openUrl(EXAMPLE_URL, 'example'));
  ui.synthetic.addEventListener('click', () => openSynthetic(1));
  // Drag-and-drop anywhere on the page.
  let dragDepth = 0;
  document.addEventListener('dragenter', (e) => {
    if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
    dragDepth++;
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) document.body.classList.remove('dragging');
  });
  document.addEventListener('dragover', (e) => {
    if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
  });
  /** The files of a drop: plain files, or (a dropped folder) every file inside, recursively. */
  async function droppedFiles(dt) {
    const entries = [...(dt.items ?? [])].map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
    if (!entries.some((en) => en.isDirectory)) return [...(dt.files ?? [])];
    const out = [];
    const walk = async (entry) => {
      if (entry.isFile) out.push(await new Promise((res, rej) => entry.file(res, rej)));
      else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
          if (!batch.length) break;
          for (const child of batch) await walk(child);
        }
      }
    };
    for (const en of entries) await walk(en);
    return out;
  }
  document.addEventListener('drop', async (e) => {
    dragDepth = 0;
    document.body.classList.remove('dragging');
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    const files = await droppedFiles(e.dataTransfer);
    const go = () => (files.length > 1 || (files.length === 1 && !ACCEPT.test(files[0].name)) ? openFiles(files) : openFile(files[0]));
    if (lab.status === 'running' || lab.status === 'opening') {
      lab.runId++;
      engine.cancel();
      engine.ready.then(go, () => {});
    } else go();
  });

  return { openUrl, openSynthetic, openFiles };
}
