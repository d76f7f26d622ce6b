import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeNetns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { CLI_ENV, collect, ROOT, runBin } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { keepAlive, sample, scrape, totals } from '../helpers/metrics.ts';
import { missingPeer } from '../helpers/peers.ts';
import { bound, freePort } from '../helpers/ports.ts';
import { isAlive, waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';
import { becomeSubreaper, zombieExit } from '../helpers/subreaper.ts';

const skip = process.platform === 'linux' ? false : '--workers needs Linux';
const NODE = `${ROOT}node_modules/.bin/node`;

async function startWorkers(args: string[] = [], command?: string[]) {
  const metricsPort = await freePort();
  const flags = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    '2',
    '--metrics',
    `127.0.0.1:${metricsPort}`,
  ];
  // The primary's line that names the workers comes once they are all ready.
  const server = await startCliServer([...flags, ...args], (l) => typeof l.workers === 'number', command);
  // By worker id: pids[0] is worker 1's.
  const pids = server.logs
    .filter((l) => /^worker \d+ ready/.test(String(l.msg)))
    .sort((a, b) => Number(a.worker) - Number(b.worker))
    .map((l) => Number(l.workerPid));
  return { server, metricsPort, pids };
}

async function serve(port: number, count: number) {
  for (let i = 0; i < count; i++) assert.match((await rawQuery(port)).data.toString('latin1'), CTIME_LINE);
}

const connections = (body: string) => sample(body, 'daytime_connections_total');

test('a scrape while a worker dies under a stopped primary: the primary goes on (no EPIPE crash)', {
  skip,
}, async () => {
  const { server, metricsPort, pids } = await startWorkers(['--quiet']);
  const scraper = await keepAlive(metricsPort);
  assert.match(await scraper.get(), /^HTTP\/1.1 200/);
  // The request waits in the socket while the primary is stopped; the worker dies meanwhile, and the
  // primary learns of both at once when it runs again.
  process.kill(server.pid, 'SIGSTOP');
  const answer = scraper.get();
  await sleep(100);
  process.kill(pids[0] ?? 0, 'SIGKILL');
  // Dead, and not reaped: its parent, the primary, is stopped.
  await waitFor(
    () => zombieExit(pids[0] ?? 0),
    (exit) => exit !== undefined,
    'the worker dead',
  );
  process.kill(server.pid, 'SIGCONT');
  assert.match(await answer, /^HTTP\/1.1 200/);
  await sleep(500);
  assert.ok(isAlive(server.pid), 'the primary is still running');
  assert.match(await scraper.get(), /^HTTP\/1.1 200/);
  scraper.close();
  assert.equal((await server.stop()).code, 0);
});

test('overlapping scrapes with a worker stopped report the same totals', { skip }, async () => {
  const { server, metricsPort, pids } = await startWorkers(['--quiet']);
  await serve(server.port, 40);
  assert.equal(connections(await scrape(metricsPort)), 40);
  process.kill(pids[0] ?? 0, 'SIGSTOP');
  try {
    const first = scrape(metricsPort);
    await sleep(30);
    const bodies = await Promise.all([first, scrape(metricsPort)]);
    assert.deepEqual(bodies.map(connections), [40, 40]);
    assert.deepEqual(
      bodies.map((b) => sample(b, 'daytime_worker_up', { worker: '1' })),
      [0, 0],
      'the stopped worker did not answer either scrape',
    );
  } finally {
    process.kill(pids[0] ?? 0, 'SIGCONT');
  }
  assert.equal((await server.stop()).code, 0);
});

test('a worker killed and replaced: no _total goes down, and the dead worker keeps its counts', {
  skip,
}, async () => {
  const { server, metricsPort, pids } = await startWorkers();
  await serve(server.port, 40);
  const before = totals(await scrape(metricsPort));
  assert.equal(before.get('daytime_connections_total'), 40);
  const victim = pids[0] ?? 0;
  process.kill(victim, 'SIGKILL');
  await waitFor(
    () => server.logs.filter((l) => /^worker 1 ready/.test(String(l.msg))).length,
    (n) => n >= 2,
    'worker 1 replaced',
  );
  const after = totals(await scrape(metricsPort));
  for (const [name, value] of before)
    assert.ok((after.get(name) ?? 0) >= value, `${name} went from ${value} to ${after.get(name)}`);
  assert.equal(after.get('daytime_connections_total'), 40);
  await serve(server.port, 20);
  assert.equal(connections(await scrape(metricsPort)), 60, 'the replacement counts on top');
  const { code } = await server.stop();
  assert.equal(code, 0);
  const closed = server.logs.find((l) => l.stats) as { stats: { connections: number } } | undefined;
  assert.equal(closed?.stats.connections, 60, "the primary's closing line has every worker's counts");
});

test('the primary SIGKILLed: each worker drains and exits 0, quietly, and the port is free', {
  skip,
}, async (t) => {
  if (!(await becomeSubreaper())) return missingPeer(t, 'prctl(PR_SET_CHILD_SUBREAPER) is not available');
  const { server, pids } = await startWorkers(['--quiet']);
  process.kill(server.pid, 'SIGKILL');
  const { stderr } = await server.stop('SIGKILL');
  for (const pid of pids) {
    const exit = await waitFor(
      () => zombieExit(pid),
      (e) => e !== undefined,
    );
    assert.deepEqual(exit, { code: 0, signal: 0 }, `worker ${pid} exited cleanly`);
  }
  assert.doesNotMatch(stderr, /IPC|ERR_/);
  const probe = net.createServer().listen(server.port, '127.0.0.1');
  await once(probe, 'listening');
  probe.close();
});

test('a replacement that cannot start is tried again with a growing pause, shown as down, and replaced once it can', {
  skip,
}, async () => {
  // A copy of the package whose dist/ goes missing, as during an upgrade: the running processes are
  // fine, but a new worker cannot load.
  const dir = mkdtempSync(join(tmpdir(), 'daytime-upgrade-'));
  try {
    cpSync(`${ROOT}dist`, join(dir, 'dist'), { recursive: true });
    cpSync(`${ROOT}package.json`, join(dir, 'package.json'));
    symlinkSync(`${ROOT}node_modules`, join(dir, 'node_modules'));
    const { server, metricsPort, pids } = await startWorkers(
      ['--quiet'],
      [NODE, join(dir, 'dist', 'cli.js')],
    );
    renameSync(join(dir, 'dist'), join(dir, 'dist.moved'));
    process.kill(pids[0] ?? 0, 'SIGKILL');
    const failures = await waitFor(
      () => server.logs.filter((l) => /^worker 1 could not start/.test(String(l.msg))),
      (f) => f.length >= 3,
    );
    assert.ok(failures.length >= 3, 'logged each time');
    const pauses = failures.map((f) => Number(f.retryInMs));
    assert.deepEqual(pauses.slice(0, 3), [100, 200, 400], 'the pause doubles');
    const body = await scrape(metricsPort);
    assert.equal(sample(body, 'daytime_worker_up', { worker: '1' }), 0);
    assert.equal(sample(body, 'daytime_worker_up', { worker: '2' }), 1);
    await serve(server.port, 10);
    renameSync(join(dir, 'dist.moved'), join(dir, 'dist'));
    await waitFor(
      () => server.logs.filter((l) => /^worker 1 ready/.test(String(l.msg))).length,
      (n) => n >= 2,
    );
    assert.equal(sample(await scrape(metricsPort), 'daytime_worker_up', { worker: '1' }), 1);
    assert.equal((await server.stop()).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workers on a port that is taken: exit 1 with the reason, nothing left running', {
  skip,
}, async () => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as net.AddressInfo;
  try {
    const result = await runBin(['serve', '--host', '127.0.0.1', '--port', String(port), '--workers', '2']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /EADDRINUSE/);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  } finally {
    holder.close();
  }
});

const hasActivate = spawnSync('systemd-socket-activate', ['--version'], { stdio: 'ignore' }).status === 0;

test('--workers under socket activation is bad input: exit 2, one line', { skip }, async (t) => {
  if (!hasActivate)
    return missingPeer(t, 'systemd-socket-activate is not installed (apt-get install systemd)');
  const port = await freePort();
  const child = spawn(
    'systemd-socket-activate',
    ['-l', `127.0.0.1:${port}`, NODE, `${ROOT}dist/cli.js`, 'serve', '--workers', '2'],
    { env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const result = collect(child);
  await bound(port);
  // The first connection makes systemd-socket-activate start the server.
  net.connect(port, '127.0.0.1').on('error', () => {});
  const { code, stderr } = await result;
  assert.equal(code, 2);
  // systemd-socket-activate says what it does on stderr too; the server's own line is one.
  const ours = stderr.split('\n').filter((line) => line.startsWith('daytime'));
  assert.equal(ours.length, 1, stderr);
  assert.match(ours[0] ?? '', /--workers/);
});

test('serve --workers says at start when net.ipv4.tcp_migrate_req is 0, and not when it is 1', {
  skip,
}, async (t) => {
  const why = netnsUnavailable('ip netns');
  if (why) return missingPeer(t, why);
  for (const value of [0, 1]) {
    const ns = makeNetns(`m${value}`, { 'net.ipv4.tcp_migrate_req': value });
    try {
      const server = await startCliServer(
        ['--host', '127.0.0.1', '--port', '0', '--workers', '2', '--quiet'],
        undefined,
        ns.exec([NODE, `${ROOT}dist/cli.js`]),
      );
      const said = server.logs.some((l) => /tcp_migrate_req is 0/.test(String(l.msg)));
      assert.equal((await server.stop()).code, 0);
      assert.equal(said, value === 0, `tcp_migrate_req ${value}`);
    } finally {
      ns.remove();
    }
  }
});
