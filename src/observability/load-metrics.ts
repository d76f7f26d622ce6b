// The metrics module (prom-client: most of an idle server's memory) loaded once, when metrics are asked
// for, through this one import: `serve --user` loads it while still root, and the second call returns
// the same promise. A dynamic import from another module would resolve the file again, as the user,
// who may not be able to read the package (a clone under a 0700 /root).
let loaded: Promise<typeof import('./metrics.ts')> | undefined;

export const loadMetrics = () => {
  loaded ??= import('./metrics.ts');
  return loaded;
};
