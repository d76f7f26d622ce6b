import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fleetUnavailable, runFleet } from '../../src/fleet/run-fleet.ts';
import { leftovers } from '../../src/fleet/topology.ts';
import { fleetVerdicts } from '../../src/fleet/verdicts.ts';
import { CLI_ENV, collect, ROOT } from '../helpers/cli.ts';
import { isAlive } from '../helpers/proc.ts';

// The fleet in network namespaces of its own: its counters and ports are its own, so these run
// beside the rest of the suite. One run of every scenario, then the checks of what a user meets.
const unavailable = fleetUnavailable();

test('the fleet: every scenario meets its figures, and nothing is left behind', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const messages: string[] = [];
  const report = await runFleet({ onProgress: (m) => messages.push(m) });
  assert.deepEqual(fleetVerdicts(report), [], JSON.stringify(report.scenarios));
  const { spread, proxyV2, rollingRestart, killHost, reload, queueing } = report.scenarios;
  assert.ok(spread && spread.connections >= 30_000 && spread.errors === 0);
  assert.equal(Object.keys(spread.perHost as object).length, 3);
  assert.equal(proxyV2?.clientAddressSeen, true);
  assert.equal(rollingRestart?.errors, 0);
  assert.equal((rollingRestart?.steps as unknown[] | undefined)?.length, 3);
  assert.ok(killHost && killHost.errors <= (killHost.inFlightAtKill as number));
  assert.equal(killHost?.errorsAfterDown, 0);
  assert.equal(reload?.errors, 0);
  const q = queueing as unknown as Record<string, Record<string, number>>;
  assert.ok((q.withoutMaxconn?.listenOverflows ?? 0) > 0, 'the stopped host overflowed without maxconn');
  assert.ok((q.withMaxconn?.haproxyQueueMax ?? 0) > 0, 'HAProxy queued with maxconn');
  assert.ok(
    (q.withMaxconn?.errors ?? 0) < (q.withoutMaxconn?.errors ?? 0),
    'maxconn bounds what the stopped host takes',
  );
  const prefix = /\((dtf\d+)-\*\)/.exec(messages[0] ?? '')?.[1] ?? '';
  assert.ok(prefix, messages[0]);
  assert.deepEqual(leftovers(prefix), [], 'no namespace left');
});

test('daytime fleet: Ctrl-C in the middle tears everything down', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const child = spawn(`${ROOT}dist/cli.js`, ['fleet', '--only', 'rollingRestart'], {
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const started = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (/rolling restart: host2/.test(stderr)) resolve();
    });
  });
  const done = collect(child);
  await started;
  const pids = spawnSync('pgrep', ['-f', '--', 'serve --proxy-protocol --host 10.77.2.1'], {
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);
  child.kill('SIGINT');
  const { code } = await done;
  assert.notEqual(code, 0);
  const prefix = /\((dtf\d+)-\*\)/.exec(stderr)?.[1] ?? '';
  assert.ok(prefix, stderr);
  assert.deepEqual(leftovers(prefix), [], 'no namespace left');
  assert.ok(pids.length > 0, 'hosts were running');
  for (const pid of pids) assert.equal(isAlive(pid), false, `host ${pid} ended`);
});

test('daytime fleet without haproxy: one line, exit 2', async (t) => {
  if (process.getuid?.() !== 0) {
    const r = await collect(
      spawn(`${ROOT}dist/cli.js`, ['fleet'], { env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^daytime fleet: the fleet needs root/);
    return;
  }
  const path = `${ROOT}node_modules/.bin:/usr/bin:/bin`;
  if (spawnSync('haproxy', ['-v'], { env: { PATH: path }, stdio: 'ignore' }).status === 0)
    return t.skip('haproxy is on /usr/bin here: cannot hide it');
  const child = spawn(`${ROOT}dist/cli.js`, ['fleet'], {
    env: { ...CLI_ENV, PATH: path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collect(child);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  assert.match(r.stderr, /^daytime fleet: the fleet needs haproxy/);
});
