import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { pages } from './blocks.ts';

// The README points into docs/ and the pages point at each other, at deploy/ and bench/: moving text
// must not leave a link behind.
test('every relative link in the README and docs/ names a file that is there', () => {
  const broken: string[] = [];
  for (const page of pages()) {
    const text = readFileSync(`${ROOT}${page}`, 'utf8');
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
      const file = normalize(join(dirname(page), target.split('#')[0] ?? ''));
      if (!existsSync(`${ROOT}${file}`)) broken.push(`${page}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});
