import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { queryDaytime } from '../../src/index.ts';
import { takeListenFds } from '../../src/process/socket-activation.ts';
import { CLI_ENV, collect, ROOT, runCli, spawnCli, stdoutShows } from '../helpers/cli.ts';
import { startCliServer, startQuietServer } from '../helpers/cli-server.ts';
import { scrape } from '../helpers/metrics.ts';
import { missingPeer } from '../helpers/peers.ts';
import { bound, freePort } from '../helpers/ports.ts';
import { isAlive, waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

const linux = process.platform === 'linux';
const lines = (text: string) => text.trim().split('\n').filter(Boolean);

test('--metrics on a port that is taken: one line naming EADDRINUSE, exit 1, never ready', async () => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await once(holder, 'listening');
  const { port } = holder.address() as net.AddressInfo;
  try {
    const r = await runCli([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics',
      `127.0.0.1:${port}`,
      '--log-format',
      'json',
    ]);
    assert.equal(r.code, 1);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /^daytime serve: cannot serve metrics on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    assert.doesNotMatch(r.stdout, /"ready":true/);
  } finally {
    holder.close();
  }
});

// (`--metrics 9464` is a port on every interface, as Prometheus exporters take it: typed-forms.test.ts.)
test('address flags are checked before anything binds: a bare number is a port, not a host (exit 2)', async () => {
  for (const args of [
    ['--host', '9464'],
    ['--metrics', '127.0.0.1'],
  ]) {
    const r = await runCli(['serve', '--port', '0', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^daytime serve: ${args[0]} must be`));
  }
});

test('the ready line comes once metrics are bound, and names them', async () => {
  const metricsPort = await freePort();
  const server = await startQuietServer(['--metrics', `127.0.0.1:${metricsPort}`]);
  const ready = server.logs.find((l) => l.ready);
  assert.equal(ready?.metrics, `http://127.0.0.1:${metricsPort}/metrics`);
  assert.match(await scrape(metricsPort), /^daytime_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
  assert.equal(await scrape(metricsPort, '/healthz'), 'ok\n');
  assert.match(await scrape(metricsPort), /^process_open_fds \d+$/m);
  assert.equal((await server.stop()).code, 0);
});

test('--workers: one ready line, from the primary', { skip: !linux && '--workers needs Linux' }, async () => {
  const server = await startQuietServer(['--workers', '2']);
  await rawQuery(server.port);
  assert.equal((await server.stop()).code, 0);
  assert.equal(server.logs.filter((l) => l.ready).length, 1);
  assert.equal(server.logs.find((l) => l.ready)?.pid, server.pid);
});

test('--host given twice: a listener on each address, one port', async () => {
  const server = await startQuietServer(['--host', '::1', '--udp']);
  for (const host of ['127.0.0.1', '::1'])
    assert.match((await rawQuery(server.port, host)).data.toString('latin1'), CTIME_LINE);
  const udp = await queryDaytime({ host: '::1', port: server.port, transport: 'udp' });
  assert.ok(udp.line);
  assert.equal(server.logs.find((l) => l.ready)?.listeners, 4);
  assert.equal((await server.stop()).code, 0);
});

const services = (() => {
  try {
    return readFileSync('/etc/services', 'latin1');
  } catch {
    return '';
  }
})();
test('ports as service names from /etc/services: --port daytime is 13, --time-port time is 37', async (t) => {
  if (!/^daytime\s+13\/tcp/m.test(services))
    return missingPeer(t, '/etc/services has no daytime entry (apt-get install netbase)');
  if (process.getuid?.() !== 0) return missingPeer(t, 'binding ports 13 and 37 needs root');
  const server = await startCliServer([
    '--host',
    '127.0.0.1',
    '--port',
    'daytime',
    '--time-port',
    'time',
    '--quiet',
  ]);
  try {
    assert.equal(server.port, 13);
    const ports = server.logs
      .filter((l) => typeof l.service === 'string' && l.port)
      .map((l) => `${l.service}:${l.port}`);
    assert.deepEqual(ports.sort(), ['daytime:13', 'time:37']);
    assert.match((await rawQuery(13, '127.0.0.1')).data.toString('latin1'), CTIME_LINE);
    const get = await runCli(['get', '--time', '127.0.0.1:time']);
    assert.equal(get.code, 0, get.stderr);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

test('SIGTERM while the workers are still starting ends the process cleanly', {
  skip: !linux && '--workers needs Linux',
}, async () => {
  const child = spawnCli([
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    '3',
    '--log-format',
    'json',
    '--drain-timeout',
    '1',
  ]);
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const closed = collect(child);
  // The primary's first line (its listening sockets) comes before any worker is ready.
  await waitFor(
    () => out,
    (o) => o.includes('listening on'),
  );
  const primary = Number(/"pid":(\d+)/.exec(out)?.[1]);
  process.kill(primary, 'SIGTERM');
  const { code } = await closed;
  assert.equal(code, 0);
  assert.equal(isAlive(primary), false);
  const pids = [...out.matchAll(/"workerPid":(\d+)/g)].map((m) => Number(m[1]));
  for (const pid of pids)
    await waitFor(
      () => isAlive(pid),
      (alive) => !alive,
    );
  assert.deepEqual(pids.filter(isAlive), [], 'no worker left');
});

test('npx daytime serve in the background, then kill %1: the server drains and goes, no orphan', {
  skip: !linux && 'the parent-death signal is Linux',
}, async () => {
  // The README's background commands, as a shell script runs them (no job control: `kill %1` reaches
  // npm only, which passes it to its shell and not to the server).
  // The script's `read` stands for the user's pause: it returns once the server has said it is ready.
  const script =
    'npx --no-install daytime serve --host 127.0.0.1 --port 0 --quiet --log-format json & read -r _; kill %1; wait';
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env: CLI_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
  const done = collect(child);
  await stdoutShows(child, /"ready":true/);
  child.stdin?.end('\n');
  const { stdout } = await done;
  const pid = Number(/"pid":(\d+)/.exec(stdout)?.[1]);
  assert.ok(pid > 0, stdout);
  await waitFor(
    () => isAlive(pid),
    (alive) => !alive,
  );
  assert.equal(isAlive(pid), false, 'the server is gone with npm');
  assert.match(stdout, /SIGTERM received, draining/);
});

const hasActivate = spawnSync('systemd-socket-activate', ['--version'], { stdio: 'ignore' }).status === 0;

test("the README's socket activation line: the socket handed over is served", async (t) => {
  if (!hasActivate)
    return missingPeer(t, 'systemd-socket-activate is not installed (apt-get install systemd)');
  const port = await freePort();
  const readme = `systemd-socket-activate -l 127.0.0.1:${port} --fdname=daytime node_modules/.bin/node dist/cli.js serve`;
  const child = spawn('bash', ['-c', `exec ${readme} --log-format json --quiet`], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = collect(child);
  await bound(port);
  const reply = await queryDaytime({ host: '127.0.0.1', port, timeout: 30 });
  assert.match(`${reply.line}\r\n`, CTIME_LINE);
  child.kill('SIGTERM');
  const { stdout } = await result;
  assert.match(stdout, /inherited from systemd/);
  // As root, the warning points at the unit, not at socket activation, which is already in use.
  const warning = stdout.split('\n').find((line) => line.includes('"root":true'));
  if (process.geteuid?.() === 0) {
    assert.match(String(warning), /DynamicUser=yes/);
    assert.doesNotMatch(String(warning), /let systemd bind them/);
  }
});

test('socket activation through npx, which loses the sockets: one line saying so, exit 1, nothing bound', async (t) => {
  if (!hasActivate)
    return missingPeer(t, 'systemd-socket-activate is not installed (apt-get install systemd)');
  const port = await freePort();
  const child = spawn(
    'systemd-socket-activate',
    [
      '-l',
      `127.0.0.1:${port}`,
      '--fdname=daytime',
      'npx',
      '--no-install',
      'daytime',
      'serve',
      '--log-format',
      'json',
    ],
    { cwd: ROOT, env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const result = collect(child);
  await bound(port);
  net.connect(port, '127.0.0.1').on('error', () => {});
  const { code, stderr, stdout } = await result;
  assert.equal(code, 1);
  const ours = stderr.split('\n').filter((line) => line.startsWith('daytime'));
  assert.equal(ours.length, 1, stderr);
  assert.match(ours[0] ?? '', /passed to npm .* node_modules\/\.bin\/node dist\/cli\.js serve/);
  assert.doesNotMatch(stdout, /listening on/);
});

test('LISTEN_PID naming another process: one warning line, and --port is bound instead', async () => {
  const server = await startQuietServer([], { LISTEN_PID: '1', LISTEN_FDS: '1' });
  // Besides the one about running as root, when the suite runs as root (serve-user.test.ts).
  const warnings = server.logs.filter((l) => l.level === 40 && l.root !== true);
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]?.msg), /LISTEN_PID is 1, not this process/);
  assert.match((await rawQuery(server.port)).data.toString('latin1'), CTIME_LINE);
  assert.equal((await server.stop()).code, 0);
});

test('LISTEN_FDS that is not a count: the warning quotes the value given', () => {
  const env = { LISTEN_PID: '4242', LISTEN_FDS: 'abc' };
  const taken = takeListenFds(env, 4242);
  assert.equal(taken.fds, undefined);
  assert.equal(taken.ignored, 'LISTEN_FDS is "abc": no sockets to serve');
  assert.equal(env.LISTEN_FDS, undefined, 'removed, so that workers do not take them');
});
