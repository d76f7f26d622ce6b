import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkOptionRules,
  normalizeBenchOptions,
  normalizeQueryOptions,
  OptionConflictError,
} from '../../src/index.ts';

const rules = [
  { conflicts: ['count', 'duration'], reason: 'one or the other' },
  { requires: ['proxyTimeout', 'proxyProtocol'], reason: 'no header is awaited without it' },
] as const;

test('conflicting and orphaned options are refused, naming both', () => {
  assert.doesNotThrow(() => checkOptionRules({ count: 5 }, rules));
  assert.doesNotThrow(() => checkOptionRules({ count: 5, duration: undefined }, rules));
  assert.doesNotThrow(() => checkOptionRules({ proxyTimeout: 3, proxyProtocol: true }, rules));
  assert.throws(
    () => checkOptionRules({ count: 5, duration: 2 }, rules),
    (error: unknown) => {
      assert.ok(error instanceof OptionConflictError);
      assert.equal((error as OptionConflictError).code, 'ERR_INVALID_OPTION');
      assert.deepEqual((error as OptionConflictError).options, ['count', 'duration']);
      assert.equal((error as Error).message, 'count and duration cannot be used together: one or the other');
      return true;
    },
  );
  for (const orphan of [{ proxyTimeout: 3 }, { proxyTimeout: 3, proxyProtocol: false }]) {
    assert.throws(() => checkOptionRules(orphan, rules), {
      message: 'proxyTimeout needs proxyProtocol: no header is awaited without it',
    });
  }
  const flags = new OptionConflictError('requires', ['udpRate', 'udp'], 'why').describe((o) => `--${o}`);
  assert.equal(flags, '--udpRate needs --udp: why');
});

test('the library applies the rule before any socket opens', () => {
  assert.throws(() => normalizeBenchOptions({ count: 10, duration: 5 }), OptionConflictError);
  assert.throws(() => normalizeQueryOptions({ transport: 'udp', proxy: 'v1' }), OptionConflictError);
  assert.equal(normalizeBenchOptions({ service: 'time' }).port, 37, 'time defaults to its own port');
  assert.equal(normalizeQueryOptions({}).port, 9999);
});
