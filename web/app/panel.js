// What the lab's panels share: DOM construction. No numerics.

/** `el('p', {className: 'x'}, child…)`: an element with its properties and children. */
export const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
