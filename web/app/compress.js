// The compress panel of the lab page (placeholder until the panel lands).

/** Mounts the panel into its section; returns its state object (for tests). */
export function startCompressPanel(options) {
  void options;
  return null;
}
