import { readFile } from 'node:fs/promises';

// The page's files live in the package's top-level playground-page/ folder (plain HTML, CSS and JavaScript,
// nothing fetched from elsewhere), and the lab's report in docs/. This module sits one folder deep in
// src/ or in dist/, so the package root is two levels up either way.
const ROOT = new URL('../../', import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

// URL path → file under the package root. Nothing else is served from disk.
export const ASSETS: Record<string, string> = {
  '/': 'playground-page/index.html',
  '/assets/app.js': 'playground-page/app.js',
  '/assets/lanes.js': 'playground-page/lanes.js',
  '/assets/view.js': 'playground-page/view.js',
  '/assets/style.css': 'playground-page/style.css',
  '/assets/icon.svg': 'playground-page/icon.svg',
  '/lab-report.html': 'docs/lab-report.html',
};

const cache = new Map<string, Promise<{ body: Buffer; type: string } | undefined>>();

export function readAsset(path: string): Promise<{ body: Buffer; type: string } | undefined> {
  const file = ASSETS[path];
  if (file === undefined) return Promise.resolve(undefined);
  let entry = cache.get(file);
  if (!entry) {
    entry = readFile(new URL(file, ROOT)).then(
      (body) => ({ body, type: TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream' }),
      () => undefined,
    );
    cache.set(file, entry);
  }
  return entry;
}
