// The transform panel of the lab page (placeholder until the panel lands).

/** Mounts the panel into its section; returns its state object (for tests). */
export function startTransformPanel(options) {
  void options;
  return null;
}
