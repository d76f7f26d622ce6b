import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { checkDescriptors, countOpenDescriptors, readDescriptorUse } from '../../src/kernel/descriptors.ts';

const linux = process.platform === 'linux';
const listed = () => readdirSync('/proc/self/fd').length - 1;

// Extra descriptors for the length of a test, so the counts are not the handful every process has.
function withOpen<T>(count: number, body: () => T): T {
  const fds = Array.from({ length: count }, () => openSync('/dev/null', 'r'));
  try {
    return body();
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

test('the open descriptors, counted without a listing, are the listing’s count', {
  skip: !linux && 'Linux only',
}, () => {
  withOpen(700, () => {
    assert.equal(countOpenDescriptors(), listed());
    const use = checkDescriptors();
    assert.equal(use?.exhausted, false);
    assert.equal(use?.open, listed());
    assert.equal(use?.limit, readDescriptorUse()?.limit);
  });
});
