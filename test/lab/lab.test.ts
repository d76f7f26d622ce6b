import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CapacityRow } from '../../src/lab/experiments/capacity.ts';
import { runLab } from '../../src/lab/run-lab.ts';
import { runCli } from '../helpers/cli.ts';

// Against the real kernel. The experiments read namespace-wide counters, so this file's tests run one
// after another (node:test runs the tests of a file in order).
const linux = process.platform === 'linux';
const koffiLoads = await import('koffi').then(
  () => true,
  () => false,
);
const skip = !linux ? 'the lab needs Linux' : !koffiLoads ? 'koffi (libc FFI) does not load here' : undefined;

test('capacity is backlog + 1 for 0, 1 and 5, overflow is silent, and ss agrees', async (t) => {
  if (skip) return t.skip(skip);
  const report = await runLab({ only: ['capacity'] });
  const result = report.experiments[0];
  if (result?.status === 'skipped') return t.skip(result.skipReason ?? 'skipped');
  const rows = result?.measurements.rows as CapacityRow[];
  for (const backlog of [0, 1, 5]) {
    const row = rows.find((r) => r.backlog === backlog);
    assert.equal(row?.connected, backlog + 1, `backlog ${backlog}`);
    assert.equal(row?.ssQueued, backlog + 1, `ss Recv-Q for backlog ${backlog}`);
    assert.equal(row?.ssBacklog, backlog, `ss Send-Q for backlog ${backlog}`);
    // Silent: the clients beyond the queue got no RST and no refusal, only a dropped SYN.
    assert.equal(row?.refusedOrReset, 0);
    assert.equal(row?.pending, (row?.attempted ?? 0) - (row?.connected ?? 0));
    assert.ok((row?.listenOverflowsDelta ?? 0) > 0, 'the kernel counted the drops');
  }
});

test('data sent on a queued, not yet accepted connection arrives intact', async (t) => {
  if (skip) return t.skip(skip);
  const [result] = (await runLab({ only: ['queued-data'] })).experiments;
  assert.equal(result?.measurements.intact, true, result?.verdict);
});

test('listen() on a UDP socket fails with EOPNOTSUPP', async (t) => {
  if (skip) return t.skip(skip);
  const [result] = (await runLab({ only: ['udp-no-listen'] })).experiments;
  assert.equal(result?.measurements.listenError, 'EOPNOTSUPP');
});

test('daytime lab --json: one document with kernel, sysctls and experiments[]', async (t) => {
  if (skip) return t.skip(skip);
  const { code, stdout, stderr } = await runCli(['lab', '--json', '--only', 'udp-no-listen,somaxconn-clamp']);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /lab: udp-no-listen/, 'progress on stderr');
  const report = JSON.parse(stdout);
  assert.equal(typeof report.kernel, 'string');
  assert.equal(typeof report.sysctls['net.core.somaxconn'], 'number');
  assert.deepEqual(
    report.experiments.map((e: { id: string }) => e.id),
    ['somaxconn-clamp', 'udp-no-listen'],
  );
  for (const e of report.experiments) {
    assert.deepEqual(Object.keys(e).sort(), [
      'durationMs',
      'expected',
      'id',
      'measurements',
      'parameters',
      'questions',
      'status',
      'title',
      'verdict',
    ]);
    assert.match(e.status, /^(ok|differs|skipped)$/);
  }
  const clamp = report.experiments[0];
  assert.ok(
    clamp.measurements.rows.every(
      (r: { ssBacklog: number }) => r.ssBacklog === report.sysctls['net.core.somaxconn'],
    ),
  );
});

test('daytime lab: the summary answers Q1-Q4 from the numbers; a bad --only exits 2', async (t) => {
  if (skip) return t.skip(skip);
  const { code, stdout } = await runCli(['lab']);
  assert.equal(code, 0);
  for (const q of ['Q1', 'Q2', 'Q3', 'Q4']) assert.match(stdout, new RegExp(`^${q} `, 'm'));
  assert.match(stdout, /silently limited to between 1 and 5\." The popular answer is wrong here\./);
  const bad = await runCli(['lab', '--only', 'nonsense']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--only must be a comma-separated list of capacity/);
});

test('in a private network namespace (root): somaxconn 8 clamps to 8, the host untouched; otherwise skipped with a reason', async (t) => {
  if (skip) return t.skip(skip);
  const hostBefore = (await import('node:fs')).readFileSync('/proc/sys/net/core/somaxconn', 'utf8');
  const [result] = (await runLab({ only: ['ns-somaxconn'] })).experiments;
  const hostAfter = (await import('node:fs')).readFileSync('/proc/sys/net/core/somaxconn', 'utf8');
  assert.equal(hostAfter, hostBefore, "the host's somaxconn is not touched");
  if (process.getuid?.() !== 0) {
    assert.equal(result?.status, 'skipped');
    assert.match(result?.skipReason ?? '', /root/);
    return;
  }
  if (result?.status === 'skipped') return t.skip(result.skipReason ?? 'skipped');
  const clamp = result?.measurements.clamp as { ssBacklog: number }[];
  assert.ok(
    clamp.every((r) => r.ssBacklog === 8),
    JSON.stringify(clamp),
  );
});
