import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTime, encodeTime } from '../../src/protocol/time.ts';

const WRAP = Date.UTC(2036, 1, 7, 6, 28, 16); // 2^32 seconds after 1900-01-01

test('encodes seconds since 1900, big-endian', () => {
  assert.equal(encodeTime(0).toString('hex'), (2_208_988_800).toString(16)); // 83aa7e80
  assert.equal(
    encodeTime(Date.UTC(2026, 10, 24, 10, 0, 0, 999)).readUInt32BE(0),
    1_795_514_400 + 2_208_988_800,
  );
  // xinetd's internal time service agrees: 1900-based seconds of 1 Jan 2000.
  assert.equal(encodeTime(Date.UTC(2000, 0, 1)).readUInt32BE(0), 3_155_673_600);
});

test('wraps to 0 at 2036-02-07T06:28:16Z and counts on from there', () => {
  assert.equal(encodeTime(WRAP - 1000).readUInt32BE(0), 0xffffffff);
  assert.equal(encodeTime(WRAP).readUInt32BE(0), 0);
  assert.equal(encodeTime(WRAP + 1000).readUInt32BE(0), 1);
});

test('decodes into the era nearest the reference time, on both sides of the rollover', () => {
  const cases = [
    Date.UTC(1970, 0, 1),
    Date.UTC(2026, 10, 24, 10, 0, 0),
    WRAP - 1000,
    WRAP,
    WRAP + 1000,
    Date.UTC(2100, 0, 1),
  ];
  for (const t of cases) {
    for (const skew of [-86_400_000 * 365, -5000, 0, 5000, 86_400_000 * 365]) {
      assert.equal(decodeTime(encodeTime(t), t + skew), t, `t=${new Date(t).toISOString()} skew=${skew}`);
    }
  }
  // Read just before the wrap, a small value means just after it; read just after, a large value means before.
  assert.equal(decodeTime(Buffer.from([0, 0, 0, 5]), WRAP - 10_000), WRAP + 5000);
  assert.equal(decodeTime(Buffer.from([0xff, 0xff, 0xff, 0xfb]), WRAP + 10_000), WRAP - 5000);
  // Without the era rule that value would decode to 1900.
  assert.equal(decodeTime(Buffer.from([0, 0, 0, 0]), Date.UTC(1905, 0, 1)), Date.UTC(1900, 0, 1));
});

test('rejects replies that are not 4 bytes', () => {
  assert.throws(() => decodeTime(Buffer.alloc(3)), RangeError);
  assert.throws(() => decodeTime(Buffer.alloc(5)), RangeError);
});
