// What the lab's panels share: DOM construction. No numerics.
//
// Children may be nodes, strings, null/undefined (skipped) or arrays of them. Arrays are appended
// in a loop, never spread into a call: a model with 120 000 tensors makes lists far longer than
// the engine's argument limit ("Maximum call stack size exceeded").

function appendAll(parent, children) {
  for (const c of children) {
    if (c === null || c === undefined) continue;
    if (Array.isArray(c)) appendAll(parent, c);
    else parent.append(c);
  }
}

/** `el('p', {className: 'x'}, child…)`: an element with its properties and children. */
export const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  appendAll(e, children);
  return e;
};

/** Replaces `parent`'s children with `children` (any length; see the module note). */
export function setChildren(parent, children) {
  const f = document.createDocumentFragment();
  appendAll(f, children);
  parent.replaceChildren(f);
}
