import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI_ENV, collect, ROOT } from '../helpers/cli.ts';

// A stop signal in the tenth of a second and more that the program takes to load, before the command
// has its own handlers: `timeout 0.1 daytime serve`, systemd stopping a unit that just started.

const skip = process.platform === 'linux' ? undefined : 'reads /proc/PID/status';

// The signals a process has handlers for (SigCgt in /proc/PID/status); undefined once it is gone.
function caught(pid: number): bigint | undefined {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask === undefined ? undefined : BigInt(`0x${mask}`);
  } catch {
    return undefined;
  }
}
const catches = (mask: bigint | undefined, signal: NodeJS.Signals) =>
  mask !== undefined && ((mask >> BigInt(constants.signals[signal] - 1)) & 1n) === 1n;

// Starts the bin and sends `signal` the moment it holds stop signals while loading: SIGHUP caught is
// the sign (serve and get never catch it themselves), long before any command runs.
async function signalWhileLoading(args: string[], signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [`${ROOT}dist/cli.js`, ...args], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  const done = collect(child);
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  const pid = child.pid as number;
  const deadline = performance.now() + 30_000;
  // Until exec, /proc shows this process's copy, with this process's handlers.
  const running = () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/cli.js');
  let mask: bigint | undefined;
  while (!exited && performance.now() < deadline) {
    mask = running() ? caught(pid) : undefined;
    if (catches(mask, 'SIGHUP')) break;
    await sleep(1);
  }
  if (!catches(mask, 'SIGHUP')) {
    child.kill('SIGKILL');
    await done;
    assert.fail('stop signals are not held while the program loads');
  }
  process.kill(pid, signal);
  return done;
}

test('serve: SIGTERM while it loads says so and exits 0, as a drain does, having served nothing', {
  timeout: 90_000,
}, async (t) => {
  if (skip) return t.skip(skip);
  const result = await signalWhileLoading(
    ['serve', '--host', '127.0.0.1', '--port', '0', '--log-format', 'json'],
    'SIGTERM',
  );
  assert.equal(result.code, 0, result.stderr);
  const records = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    records.map((r) => r.msg),
    ['SIGTERM received while starting: stopped before listening, nothing served'],
  );
  assert.equal(records[0].signal, 'SIGTERM');
});

test('lab: SIGTERM while it loads prints the summary of a run that did nothing, exit 143', {
  timeout: 90_000,
}, async (t) => {
  if (skip) return t.skip(skip);
  const result = await signalWhileLoading(['lab', '--only', 'capacity,udp-no-listen', '--json'], 'SIGTERM');
  assert.equal(result.code, 143, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.interrupted, true);
  assert.deepEqual(
    report.experiments.map((e: { skipReason?: string }) => e.skipReason),
    ['interrupted', 'interrupted'],
  );
});

test('get, which has no stop of its own: SIGTERM while it loads ends it as by default', {
  timeout: 90_000,
}, async (t) => {
  if (skip) return t.skip(skip);
  const result = await signalWhileLoading(['get', '127.0.0.1:9', '--timeout', '30'], 'SIGTERM');
  assert.equal(result.signal, 'SIGTERM', `${result.code} ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, '');
});
