import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  checkDescriptors,
  countOpenDescriptors,
  readDescriptorUse,
  reserveDescriptors,
} from '../../src/kernel/descriptors.ts';
import { loadSocketCalls } from '../../src/kernel/socket-calls.ts';

const linux = process.platform === 'linux';
const tableSize = () => Number(/^FDSize:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
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

test('reserveDescriptors grows the descriptor table once, and leaves nothing open', {
  skip: !linux && 'Linux only',
}, async () => {
  const calls = await loadSocketCalls();
  const limit = readDescriptorUse()?.limit ?? 0;
  const before = tableSize();
  const open = listed();
  // Beyond what this process has grown to so far, within the limit.
  const wanted = Math.min(before * 4, limit);
  assert.ok(wanted > before, `room to grow: table ${before}, limit ${limit}`);
  assert.equal(reserveDescriptors(calls, wanted), true);
  assert.ok(tableSize() >= wanted, `table ${tableSize()} holds ${wanted} descriptors`);
  assert.equal(listed(), open, 'the descriptor used to grow it is closed again');
  // Asked for more than the limit allows (fcntl refuses numbers past it), it grows to the limit.
  assert.equal(reserveDescriptors(calls, limit * 2), true);
  assert.ok(tableSize() >= limit, `table ${tableSize()} for a limit of ${limit}`);
  assert.equal(listed(), open);
});
