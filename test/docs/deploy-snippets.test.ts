import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { pages } from './blocks.ts';

// test/interop/inetd.test.ts runs deploy/inetd/inetd.conf and deploy/xinetd/daytime-node as written.
// What the pages quote must be those files, or a reader copies a line no test ran (the README once
// quoted a /usr/bin/node line that answered every client with "needs Node.js 22.12").
const words = (line: string) => line.trim().split(/\s+/).join(' ');
const INETD_ENTRY = /^\s*#?\s*(\/etc\/inetd\.conf:\s*)?(daytime|time)\s+(stream|dgram)\s+(tcp|udp)/;

test('every inetd.conf line in the README and docs/ is a line of deploy/inetd/inetd.conf', () => {
  const tested = new Set(
    readFileSync(`${ROOT}deploy/inetd/inetd.conf`, 'utf8')
      .split('\n')
      .filter((l) => INETD_ENTRY.test(l))
      .map(words),
  );
  assert.ok(tested.size >= 2, 'deploy/inetd/inetd.conf has its daytime and time lines');
  const quoted: string[] = [];
  const stray: string[] = [];
  for (const page of pages()) {
    for (const line of readFileSync(`${ROOT}${page}`, 'utf8').split('\n')) {
      if (!INETD_ENTRY.test(line)) continue;
      quoted.push(line);
      if (!tested.has(words(line))) stray.push(`${page}: ${line.trim()}`);
    }
  }
  assert.ok(quoted.length > 0, 'docs/deploy.md quotes the inetd.conf lines');
  assert.deepEqual(stray, []);
});

test('every xinetd service block in the README and docs/ is one of deploy/xinetd/daytime-node', () => {
  const file = readFileSync(`${ROOT}deploy/xinetd/daytime-node`, 'utf8');
  const blocks = (text: string) => [...text.matchAll(/^service \w+\n\{\n[^}]*\}/gm)].map((m) => words(m[0]));
  const tested = new Set(blocks(file));
  const quoted = pages().flatMap((page) =>
    blocks(readFileSync(`${ROOT}${page}`, 'utf8')).map((b) => ({ page, b })),
  );
  assert.ok(quoted.length > 0, 'docs/deploy.md quotes an xinetd service');
  assert.deepEqual(
    quoted.filter(({ b }) => !tested.has(b)).map(({ page, b }) => `${page}: ${b}`),
    [],
  );
});
