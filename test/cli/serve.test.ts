import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { readListenQueues } from '../../src/index.ts';
import { TESTED_ACCEPT_PATHS } from '../helpers/accept.ts';
import { runBin, runCli } from '../helpers/cli.ts';
import { spawnUntilReady, startCliServer, startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { HAS_PROC, isAlive, openDescriptors, waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery, resetClient } from '../helpers/raw-client.ts';

const somaxconn = HAS_PROC ? Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')) : undefined;

test('the kernel holds the backlog that was asked for (ss Send-Q)', async (t) => {
  if ((await readListenQueues(1)) === undefined) return missingPeer(t, 'ss (iproute2) is not installed');
  for (const backlog of [1, 7, 511]) {
    const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--backlog', String(backlog)]);
    const rows = await readListenQueues(server.port);
    await server.stop();
    assert.equal(rows?.length, 1);
    assert.equal(rows?.[0]?.backlog, Math.min(backlog, somaxconn ?? backlog), `backlog ${backlog}`);
  }
});

test('the start line reports requested and effective backlog, clamping and the accept-queue size', async (t) => {
  if (somaxconn === undefined) return t.skip('no /proc/sys/net/core/somaxconn on this system');
  const requested = Math.min(somaxconn + 1, 65535);
  if (requested <= somaxconn)
    return t.skip(`somaxconn ${somaxconn} is at the flag's maximum; nothing to clamp`);
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--backlog', String(requested)]);
  const { code } = await server.stop();
  assert.equal(code, 0);
  const logs = server.logs as { level: number; msg: string; backlog?: number; effectiveBacklog?: number }[];
  const start = logs.find((l) => l.effectiveBacklog !== undefined);
  assert.equal(start?.backlog, requested);
  assert.equal(start?.effectiveBacklog, somaxconn);
  assert.match(start?.msg ?? '', new RegExp(`listening on 127\\.0\\.0\\.1:${server.port}`));
  if (process.platform === 'linux')
    assert.match(start?.msg ?? '', new RegExp(`holds ${somaxconn + 1} connections`));
  assert.ok(
    logs.some((l) => l.level === 40 && /clamped.*somaxconn/.test(l.msg)),
    'a clamp warning',
  );
});

// Connects from HOST and returns the client's own port, once the server has closed.
async function connectFrom(host: string, port: number): Promise<number> {
  const socket = net.connect({ host, port }).resume();
  await once(socket, 'connect');
  const local = socket.localPort ?? 0;
  await once(socket, 'close');
  return local;
}

for (const accept of TESTED_ACCEPT_PATHS) {
  test(`--accept ${accept}: one log line per connection naming the peer (IPv4 and IPv6); none with --quiet`, async () => {
    for (const quiet of [false, true]) {
      // No --host: every interface, IPv6 with IPv4 mapped in, so both kinds of peer address arrive.
      const server = await startCliServer(['--port', '0', '--accept', accept, ...(quiet ? ['--quiet'] : [])]);
      const ready = server.logs.find((l) => l.ready);
      assert.equal(ready?.acceptPath, accept, 'the ready line names the path');
      const v4 = await connectFrom('127.0.0.1', server.port);
      const v6 = await connectFrom('::1', server.port);
      await server.stop();
      const peers = server.logs
        .filter((l) => String(l.msg).startsWith('Got a connection from '))
        .map((l) => l.peer);
      assert.deepEqual(peers, quiet ? [] : [`127.0.0.1:${v4}`, `[::1]:${v6}`], `quiet=${quiet}`);
    }
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} stops the server cleanly with exit 0`, async () => {
    const server = await startCliServer(['--host', '127.0.0.1', '--port', '0']);
    const { code, stderr } = await server.stop(signal);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
}

test('a port in use: one line naming EADDRINUSE, exit 1', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const { port } = blocker.address() as net.AddressInfo;
  const { code, stderr, stdout } = await runCli(['serve', '--host', '127.0.0.1', '--port', String(port)]);
  blocker.close();
  assert.equal(code, 1);
  assert.equal(stderr.trimEnd().split('\n').length, 1);
  assert.match(stderr, /^daytime serve: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  assert.doesNotMatch(stdout, /listening on/);
});

test('an unresolvable host: one line, exit 1', async () => {
  const { code, stderr } = await runCli(['serve', '--host', 'no-such-host.invalid', '--port', '0']);
  assert.equal(code, 1);
  assert.equal(stderr.trimEnd().split('\n').length, 1);
  assert.match(stderr, /no-such-host\.invalid.*(ENOTFOUND|EAI_AGAIN)/);
});

test('a privileged port without the privilege: one line naming EACCES, exit 1', async (t) => {
  const unprivilegedStart = HAS_PROC
    ? Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'))
    : 1024;
  if (unprivilegedStart <= 13) return t.skip('ip_unprivileged_port_start lets anyone bind port 13 here');
  const isRoot = process.getuid?.() === 0;
  // As root, this one run loses the capability to bind low ports (setpriv drops it from the bounding
  // set) but stays root: another user could not even read a checkout under a 0700 home directory.
  // Without root, we already lack the privilege.
  if (isRoot && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0)
    return missingPeer(t, 'setpriv (util-linux) is needed to drop CAP_NET_BIND_SERVICE as root');
  const prefix = isRoot
    ? ['setpriv', '--bounding-set=-net_bind_service', '--inh-caps=-net_bind_service', '--']
    : [];
  const { code, stderr } = await runBin(['serve', '--host', '127.0.0.1', '--port', '13'], { prefix });
  assert.equal(code, 1, stderr);
  assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  assert.match(stderr, /EACCES.*CAP_NET_BIND_SERVICE/);
});

test('100 resetting clients mixed with 100 normal ones: all normal ones served, descriptors back to baseline', async (t) => {
  if (!HAS_PROC) return t.skip('descriptor counts need /proc');
  const server = await startQuietServer();
  const baseline = openDescriptors(server.pid);
  const normal: Promise<{ data: Buffer }>[] = [];
  const resets: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) {
    resets.push(resetClient(server.port));
    normal.push(rawQuery(server.port));
  }
  const replies = await Promise.all(normal);
  await Promise.all(resets);
  for (const reply of replies) assert.match(reply.data.toString('latin1'), CTIME_LINE);
  const after = await waitFor(
    () => openDescriptors(server.pid),
    (n) => n <= baseline,
  );
  assert.ok(isAlive(server.pid), 'the server is alive');
  // At most the baseline: a descriptor the server opens for a moment (its once-a-second look at /proc) may
  // have been counted in it.
  assert.ok(after <= baseline, `open descriptors back to the baseline: ${after} of ${baseline}`);
  const { code } = await server.stop();
  assert.equal(code, 0);
  const closed = server.logs.find((l) => l.stats) as { stats: { served: number } } | undefined;
  assert.ok((closed?.stats.served ?? 0) >= 100, `served ${closed?.stats.served}`);
});

test('clients that never read and never close hold no server descriptor', async (t) => {
  if (!HAS_PROC) return t.skip('descriptor counts need /proc');
  for (const accept of TESTED_ACCEPT_PATHS) {
    const server = await startQuietServer(['--accept', accept]);
    const baseline = openDescriptors(server.pid);
    // Connected and idle: reading paused, never closing.
    const idle = Array.from({ length: 50 }, () =>
      net
        .connect(server.port, '127.0.0.1')
        .pause()
        .on('error', () => {}),
    );
    await Promise.all(idle.map((s) => once(s, 'connect')));
    const after = await waitFor(
      () => openDescriptors(server.pid),
      (n) => n <= baseline,
    );
    for (const s of idle) s.destroy();
    await server.stop();
    assert.ok(after <= baseline, `--accept ${accept}: ${after} descriptors, baseline ${baseline}`);
  }
});

test('npm start runs daytime serve on port 9999', async (t) => {
  const busy = await new Promise<boolean>((resolve) => {
    const probe = net.createServer().once('error', () => resolve(true));
    probe.listen(9999, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
  if (busy) return t.skip('port 9999 is in use here');
  const { pid, port, exited } = await spawnUntilReady('npm', [
    'start',
    '--',
    '--host',
    '127.0.0.1',
    '--log-format',
    'json',
  ]);
  assert.equal(port, 9999);
  assert.match((await rawQuery(9999)).data.toString('latin1'), CTIME_LINE);
  process.kill(pid, 'SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0);
});
