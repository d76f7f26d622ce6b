import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

// An npm registry on loopback that knows exactly the packages package-lock.json names (their locked
// versions, dependencies, os and cpu), and serves each tarball from npm's own cache, where `npm ci` left
// it (found by its integrity). npm then resolves and installs the package's dependencies as it would
// from the real registry, without any traffic beyond 127.0.0.1. A tarball that is not in the cache is
// asked for by a platform npm skips (koffi's other-platform packages) or is missing: `missing` lists them.

interface LockEntry {
  name?: string;
  version: string;
  integrity?: string;
  dev?: boolean;
  link?: boolean;
  os?: string[];
  cpu?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
}

export interface LocalRegistry {
  url: string;
  // Packages whose tarball npm's cache does not hold (with os/cpu: only another platform's).
  missing: { name: string; version: string; platform: boolean }[];
  close(): Promise<void>;
}

const npmCache = () =>
  spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim() || join(ROOT, '.npm');

// cacache's path for content of a given integrity (sha512-BASE64 → content-v2/sha512/ab/cd/rest).
function cachedContent(cache: string, integrity: string): string {
  const [algorithm = '', digest = ''] = integrity.split('-');
  const hex = Buffer.from(digest, 'base64').toString('hex');
  return join(cache, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const cache = npmCache();
  const packuments = new Map<string, Map<string, LockEntry>>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key || entry.dev || entry.link || !entry.integrity) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const versions = packuments.get(name) ?? new Map<string, LockEntry>();
    versions.set(entry.version, entry);
    packuments.set(name, versions);
  }
  const tarballs = new Map<string, string>();
  const missing: LocalRegistry['missing'] = [];
  const server = http.createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '/').split('?')[0] ?? '/').slice(1);
    const file = tarballs.get(path);
    if (file) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(readFileSync(file));
      return;
    }
    const versions = packuments.get(path);
    if (!versions) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(packument(path, versions, url)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  for (const [name, versions] of packuments) {
    for (const [version, entry] of versions) {
      const file = cachedContent(cache, entry.integrity ?? '');
      if (existsSync(file)) tarballs.set(tarballPath(name, version), file);
      else missing.push({ name, version, platform: Boolean(entry.os || entry.cpu) });
    }
  }
  return {
    url,
    missing,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const tarballPath = (name: string, version: string) => `${name}/-/${name.split('/').pop()}-${version}.tgz`;

// The registry's document for one package: every locked version, with what npm needs to resolve it.
function packument(name: string, versions: Map<string, LockEntry>, url: string) {
  const manifests: Record<string, unknown> = {};
  for (const [version, entry] of versions) {
    const { integrity, dev: _dev, link: _link, name: _name, ...fields } = entry;
    manifests[version] = {
      name,
      ...fields,
      version,
      dist: { integrity, tarball: `${url}${tarballPath(name, version)}` },
    };
  }
  const latest = [...versions.keys()].at(-1);
  return { name, 'dist-tags': { latest }, versions: manifests };
}
