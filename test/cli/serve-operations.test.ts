import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryDaytime, queryTime, readListenQueues, readProcNet } from '../../src/index.ts';
import { AUTO_ACCEPT_PATH, TESTED_ACCEPT_PATHS, TESTED_UDP_PATHS } from '../helpers/accept.ts';
import { CLI_ENV, ROOT } from '../helpers/cli.ts';
import { startCliServer, startQuietServer } from '../helpers/cli-server.ts';
import { sample } from '../helpers/metrics.ts';
import { missingPeer } from '../helpers/peers.ts';
import { bound, freePort } from '../helpers/ports.ts';
import { HAS_PROC, isAlive, waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;

for (const accept of TESTED_ACCEPT_PATHS)
  test(`--accept ${accept}: SIGTERM drains: every client waiting in the kernel accept queue of a blocked server gets its line`, async (t) => {
    if (!hasSs) return missingPeer(t, 'ss (iproute2) is needed to see the queue');
    const server = await startQuietServer(['--backlog', '20', '--accept', accept]);
    // A stopped process accepts nothing: the kernel completes the handshakes and queues them.
    process.kill(server.pid, 'SIGSTOP');
    const clients = Array.from({ length: 10 }, () => rawQuery(server.port));
    let rows = await readListenQueues(server.port);
    for (let i = 0; i < 400 && (rows?.[0]?.queued ?? 0) < 10; i++) {
      await sleep(25);
      rows = await readListenQueues(server.port);
    }
    assert.equal(rows?.[0]?.queued, 10, 'ten connections wait in the accept queue');
    // SIGTERM arrives while it is stopped; closing the listener now would reset all ten.
    process.kill(server.pid, 'SIGTERM');
    process.kill(server.pid, 'SIGCONT');
    const replies = await Promise.all(clients);
    for (const reply of replies) assert.match(reply.data.toString('latin1'), CTIME_LINE);
    const { code } = await server.stop('SIGCONT');
    assert.equal(code, 0);
  });

test('--metrics serves Prometheus metrics: served by service and transport, the queue, the backlog, kernel counters', async () => {
  const metricsPort = await freePort();
  const server = await startQuietServer(['--backlog', '7', '--udp', '--metrics', `127.0.0.1:${metricsPort}`]);
  await queryDaytime({ host: '127.0.0.1', port: server.port });
  await queryDaytime({ host: '127.0.0.1', port: server.port, transport: 'udp' });
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  await server.stop();
  assert.match(body, /^daytime_served_total\{service="daytime",transport="tcp"\} 1$/m);
  assert.match(body, /^daytime_served_total\{service="daytime",transport="udp"\} 1$/m);
  assert.match(body, /^daytime_connections_total 1$/m);
  // auto: the fastest path that runs here.
  assert.match(body, new RegExp(`^daytime_accept_path_listeners\\{path="${AUTO_ACCEPT_PATH}"\\} 1$`, 'm'));
  assert.match(body, /^# TYPE daytime_udp_dropped_total counter$/m);
  const udpPath = process.platform === 'linux' ? 'mmsg' : 'dgram';
  assert.match(body, new RegExp(`^daytime_udp_path_sockets\\{path="${udpPath}"\\} 1$`, 'm'));
  if (process.platform === 'linux') {
    // From getsockopt(TCP_INFO) on the listener; the label is where it listens, so it survives a restart.
    const labels = `service="daytime",port="${server.port}",listener="127.0.0.1:${server.port}"`;
    assert.match(body, new RegExp(`^daytime_listen_queue_length\\{${labels}\\} 0$`, 'm'));
    assert.match(body, new RegExp(`^daytime_listen_backlog\\{${labels}\\} 7$`, 'm'));
  }
  if (HAS_PROC) {
    assert.match(body, /^daytime_kernel_listen_overflows_total \d+$/m);
    assert.match(body, /^daytime_kernel_listen_drops_total \d+$/m);
    assert.match(body, /^daytime_kernel_udp_rcvbuf_errors_total \d+$/m);
  }
});

test('--workers 2: connections spread over both workers, a killed worker is replaced, metrics sum them', async () => {
  const metricsPort = await freePort();
  const server = await startCliServer(
    ['--host', '127.0.0.1', '--port', '0', '--workers', '2', '--metrics', `127.0.0.1:${metricsPort}`],
    (record) => typeof record.workers === 'number',
  );
  const started = server.logs.find((l) => l.workers) as { pids: number[]; msg: string };
  assert.ok(
    server.logs.some((l) => /2 workers, a socket each; backlog 511 requested/.test(String(l.msg))),
    'the primary says once that each worker has a socket (and a queue) of its own',
  );
  const servedBy = async (count: number) => {
    const before = server.logs.length;
    for (let i = 0; i < count; i++)
      assert.match((await rawQuery(server.port)).data.toString('latin1'), CTIME_LINE);
    await waitFor(
      () => server.logs.slice(before).filter((l) => String(l.msg).startsWith('Got a connection')).length,
      (n) => n >= count,
    );
    return new Set(
      server.logs
        .slice(before)
        .filter((l) => String(l.msg).startsWith('Got a connection'))
        .map((l) => l.pid),
    );
  };
  const pids = await servedBy(100);
  assert.deepEqual([...pids].sort(), [...started.pids].sort(), 'both workers served connections');

  // A scrape first, so the primary has the victim's latest counts (it keeps them once it is gone).
  await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  const [victim] = started.pids;
  process.kill(victim ?? 0, 'SIGKILL');
  const isReplacement = (l: Record<string, unknown>) =>
    typeof l.workerPid === 'number' && /ready/.test(String(l.msg)) && !started.pids.includes(l.workerPid);
  const replaced = await waitFor(
    () => server.logs.find(isReplacement),
    (l) => l !== undefined,
  );
  const newPid = Number(replaced?.workerPid);
  assert.ok(isAlive(newPid), 'a new worker reported ready');
  const after = await servedBy(100);
  assert.ok(after.has(newPid), 'the replacement serves connections');

  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const served = sample(body, 'daytime_served_total', { service: 'daytime', transport: 'tcp' });
  // The killed worker's counts are kept; the survivor's and the replacement's are added.
  assert.equal(served, 200);
  assert.match(body, /^daytime_accept_path_listeners\{path="\w+"\} 2$/m, 'one listener per worker');
  if (hasSs)
    assert.equal(body.match(/^daytime_listen_backlog\{/gm)?.length, 2, 'one backlog per worker listener');
  const { code } = await server.stop();
  assert.equal(code, 0);
});

// systemd-socket-activate listens, then execs the command on the first connection with LISTEN_FDS set.
function socketActivate(args: string[], serveArgs: string[] = []) {
  return spawn(
    'systemd-socket-activate',
    [
      ...args,
      `${ROOT}node_modules/.bin/node`,
      `${ROOT}dist/cli.js`,
      'serve',
      '--log-format',
      'json',
      '--quiet',
      ...serveArgs,
    ],
    {
      env: CLI_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}
const hasActivate = spawnSync('systemd-socket-activate', ['--version'], { stdio: 'ignore' }).status === 0;

test('socket activation (TCP): serves the inherited socket and keeps its backlog', async (t) => {
  if (!hasActivate)
    return missingPeer(t, 'systemd-socket-activate is not installed (apt-get install systemd)');
  if (!hasSs) return missingPeer(t, 'ss (iproute2) is needed to read the backlog');
  const port = await freePort();
  const child = socketActivate(['-l', `127.0.0.1:${port}`, '--fdname=daytime']);
  let before: Awaited<ReturnType<typeof readListenQueues>>;
  for (let i = 0; i < 200; i++) {
    before = await readListenQueues(port);
    if (before?.length) break;
    await sleep(25);
  }
  let logs = '';
  child.stdout.on('data', (chunk) => {
    logs += chunk;
  });
  const reply = await queryDaytime({ host: '127.0.0.1', port, timeout: 30 });
  assert.match(`${reply.line}\r\n`, CTIME_LINE);
  const after = await readListenQueues(port);
  child.kill('SIGTERM');
  const [code] = await once(child, 'close');
  assert.equal(code, 0);
  const ready = logs.split('\n').find((line) => line.includes('"ready":true'));
  // The inherited descriptor is taken by the same accept paths as one the server bound itself.
  assert.equal(JSON.parse(ready ?? '{}').acceptPath, AUTO_ACCEPT_PATH);
  assert.ok(before?.[0]?.backlog, 'the socket unit set a backlog');
  // Node would have re-listened with 511; the server kept what systemd set.
  assert.equal(after?.[0]?.backlog, before?.[0]?.backlog);
});

for (const udpIo of TESTED_UDP_PATHS)
  test(`--udp-io ${udpIo}: socket activation (UDP): a datagram socket named "time" serves RFC 868`, async (t) => {
    if (!hasActivate)
      return missingPeer(t, 'systemd-socket-activate is not installed (apt-get install systemd)');
    const port = await freePort();
    const child = socketActivate(
      ['--datagram', '-l', `127.0.0.1:${port}`, '--fdname=time'],
      ['--udp-io', udpIo],
    );
    let logs = '';
    child.stdout.on('data', (chunk) => {
      logs += chunk;
    });
    await bound(port, 'udp');
    // The first datagram wakes systemd-socket-activate and waits in the socket for the server: the path
    // takes the socket over before Node has read it.
    const reply = await queryTime({ host: '127.0.0.1', port, transport: 'udp', timeout: 30 });
    child.kill('SIGTERM');
    await once(child, 'close');
    assert.ok(Math.abs(reply.offsetMs) < 2000);
    const ready = logs.split('\n').find((line) => line.includes('"ready":true'));
    assert.equal(JSON.parse(ready ?? '{}').udpPath, udpIo);
  });

for (const udpIo of TESTED_UDP_PATHS)
  test(`--udp-io ${udpIo}: --workers 2 --udp: a UDP socket per worker, every datagram answered, metrics sum them`, async () => {
    const metricsPort = await freePort();
    const server = await startCliServer(
      ['--host', '127.0.0.1', '--port', '0', '--workers', '2', '--udp', '--udp-io', udpIo, '--quiet'].concat([
        // One source address for every client: its burst must not be the limit here.
        '--udp-rate',
        '1000',
        '--metrics',
        `127.0.0.1:${metricsPort}`,
      ]),
      (record) => typeof record.workers === 'number',
    );
    // SO_REUSEPORT spreads datagrams over the sockets by source address and port: many clients reach both.
    const replies = await Promise.all(
      Array.from({ length: 40 }, () =>
        queryDaytime({ host: '127.0.0.1', port: server.port, transport: 'udp', timeout: 10 }),
      ),
    );
    for (const reply of replies) assert.match(`${reply.line}\r\n`, CTIME_LINE);
    // A worker gets 100 ms to answer a scrape; on a busy machine ask again until both have.
    let body = '';
    for (let i = 0; i < 50 && !/daytime_udp_received_total 40$/m.test(body); i++) {
      if (i > 0) await sleep(100);
      body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    }
    const sockets = () =>
      readProcNet('udp')?.filter((row) => row.port === server.port && row.local === '127.0.0.1').length;
    if (HAS_PROC) assert.equal(sockets(), 2, 'one UDP socket per worker');
    const { code } = await server.stop();
    assert.equal(code, 0);
    assert.match(body, new RegExp(`^daytime_udp_path_sockets\\{path="${udpIo}"\\} 2$`, 'm'));
    assert.match(body, /^daytime_served_total\{service="daytime",transport="udp"\} 40$/m);
    assert.match(body, /^daytime_udp_received_total 40$/m);
    if (HAS_PROC) assert.equal(sockets(), 0, 'the workers closed their sockets');
  });
