import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplyLimiter } from '../../src/udp/rate-limit.ts';

test('one source gets its burst, then its rate, and no more', () => {
  const limiter = new ReplyLimiter({ perSource: 5, global: 1000 }, 0);
  let allowed = 0;
  // 10 seconds of 1,000 datagrams a second from one address, on a simulated clock.
  for (let ms = 0; ms < 10_000; ms++) if (limiter.check('192.0.2.1', ms) === undefined) allowed++;
  // Burst of 10, then 5 a second for the 10 s.
  assert.ok(allowed >= 55 && allowed <= 60, `allowed ${allowed}`);
});

test('many sources are capped by the global rate', () => {
  const limiter = new ReplyLimiter({ perSource: 5, global: 100 }, 0);
  const reasons = new Map<string, number>();
  let allowed = 0;
  for (let i = 0; i < 10_000; i++) {
    const ms = i / 10; // 10,000 datagrams from 10,000 sources in 1 s
    const reason = limiter.check(`198.51.100.${i}`, ms);
    if (reason === undefined) allowed++;
    else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  assert.ok(allowed >= 100 && allowed <= 201, `allowed ${allowed}`);
  assert.ok((reasons.get('global_rate') ?? 0) > 9000);
});

test('the source table is bounded and idle sources are forgotten', () => {
  const limiter = new ReplyLimiter({ perSource: 1, global: 1e9, maxSources: 100 }, 0);
  for (let i = 0; i < 100; i++) limiter.check(`s${i}`, 0);
  assert.equal(limiter.check('one-more', 0), 'source_table_full');
  // After the sweep interval every bucket has refilled, so the entries go and new sources fit again.
  assert.equal(limiter.check('one-more', 20_000), undefined);
  assert.equal(limiter.trackedSources, 1);
});
