// Page navigation: one panel at a time, chosen by the address's #hash (deep-linkable, back/forward
// work), and a header line naming the open model. Switching only hides sections: every panel
// keeps its state, results and running jobs.
import { el } from './panel.js';

/** [hash, label, selector of the section] in page order. */
export const TABS = [
  ['lab', 'Model lab', 'section.lab'],
  ['compare', 'Compare', '#compare-panel'],
  ['compress', 'Compression', '#compress-panel'],
  ['quant', 'Quantization plan', '#quant-panel'],
  ['metrics', 'Embeddings', '#metrics-panel'],
  ['transform', 'Transforms', '#transform-panel'],
  ['demo', 'Random-matrix demo', 'section.demo'],
];

/**
 * Adds the tab bar to `header`, shows the tab of `location.hash` (default: the lab), and names
 * the store's open model (and the Compare panel's pair) under it.
 */
export function startTabs(header, store) {
  const links = new Map();
  const nav = el('nav', { id: 'tabs', className: 'tabs', ariaLabel: 'Panels' });
  nav.setAttribute('role', 'tablist');
  for (const [id, label, sel] of TABS) {
    const section = document.querySelector(sel);
    if (!section) continue;
    section.dataset.tab = id;
    section.setAttribute('role', 'tabpanel');
    const a = el('a', { href: `#${id}`, id: `tab-${id}`, textContent: label });
    a.setAttribute('role', 'tab');
    links.set(id, { a, section });
    nav.append(a);
  }
  const model = el('p', { id: 'open-model', className: 'open-model', textContent: 'No model open yet.' });
  const compare = el('p', { id: 'open-compare', className: 'open-model', hidden: true });
  header.append(nav, model, compare);

  function show() {
    const want = location.hash.replace(/^#/, '');
    const id = links.has(want) ? want : 'lab';
    for (const [key, { a, section }] of links) {
      const on = key === id;
      section.classList.toggle('tab-off', !on);
      a.setAttribute('aria-selected', String(on));
      a.classList.toggle('active', on);
    }
    return id;
  }
  window.addEventListener('hashchange', show);
  const mib = (files) => {
    const bytes = (files ?? []).reduce((n, f) => n + (f?.size ?? 0), 0);
    return bytes ? ` (${(bytes / 2 ** 20).toFixed(1)} MiB${files.length > 1 ? `, ${files.length} files` : ''})` : '';
  };
  store?.on('model', ({ model: m }) => {
    if (!m?.name) return;
    model.textContent = `Open model: ${m.name}${mib(m.files)}. Every panel works on it.`;
    compare.hidden = true;
  });
  // The Compare panel may compare another pair (its demos): say which, so the header never hides it.
  store?.on('compare', ({ base, other }) => {
    compare.textContent = `Compare: ${base.name}${mib(base.files)} against ${other}.`;
    compare.hidden = false;
  });
  return { show, get current() {
    return show();
  } };
}
