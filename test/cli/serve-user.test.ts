import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeNetns, type Netns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { parseProcNet } from '../../src/kernel/proc-net.ts';
import { groupOption, userOption } from '../../src/options/accounts.ts';
import { processIds, unreachableBy } from '../../src/process/privileges.ts';
import { collect, ROOT, runBin } from '../helpers/cli.ts';
import { startCliServer, startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/proc.ts';

// serve --user: every socket bound as root, then the process (and each worker) runs as the user, with
// no supplementary groups; ports 13 and 37 in a network namespace of the test's own.

const NODE = `${ROOT}node_modules/.bin/node`;
const CLI = `${ROOT}dist/cli.js`;
const CTIME = /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/;

function account(database: 'passwd' | 'group', name: string) {
  const fields = spawnSync('getent', [database, name], { encoding: 'utf8' }).stdout?.split(':');
  return fields && fields.length > 3 ? { id: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}
const nobody = account('passwd', 'nobody');
// A group other than nobody's own, for --group.
const daemon = account('group', 'daemon');

const ids = (pid: number) => {
  const { uids, gids, groups } = processIds(pid);
  return { uid: uids, gid: gids, groups };
};

// Why the namespace tests cannot run here; undefined when they can.
function rootUnavailable(): string | undefined {
  if (!nobody) return 'needs a user nobody (getent passwd nobody)';
  if (!daemon) return 'needs a group daemon (getent group daemon)';
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'needs setpriv (util-linux)';
  return netnsUnavailable('ip netns');
}

// The server as root with a supplementary group (root here may have none), which --user must clear.
const withGroups = (ns: Netns) => ns.exec(['setpriv', `--groups=${daemon?.id}`, '--', NODE, CLI]);

async function inNamespace(ns: Netns, args: string[], script = CLI) {
  const [command = '', ...rest] = ns.exec([NODE, ...(script ? [script] : []), ...args]);
  return collect(spawn(command, rest, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }));
}

async function queryAll(ns: Netns, times: number) {
  for (let i = 0; i < times; i++) {
    for (const args of [
      ['get', '127.0.0.1:13'],
      ['get', '127.0.0.1:13', '--udp'],
    ]) {
      const reply = await inNamespace(ns, args);
      assert.equal(reply.code, 0, `${args.join(' ')}: ${reply.stderr}`);
      assert.match(reply.stdout, CTIME);
    }
  }
}

test('serve --user nobody as root: ports 13 and 37, TCP and UDP, served by a process that is nobody in every id, on sockets root made', async (t) => {
  const why = rootUnavailable();
  if (why) return t.skip(why);
  const ns = makeNetns('user');
  try {
    const server = await startCliServer(
      ['--port', '13', '--time-port', '37', '--udp', '--user', 'nobody', '--metrics', '127.0.0.1:99'],
      undefined,
      withGroups(ns),
    );
    const { uid, gid, groups } = ids(server.pid);
    assert.deepEqual(uid, [nobody?.id, nobody?.id, nobody?.id, nobody?.id], 'real, effective, saved, fs uid');
    assert.deepEqual(
      gid,
      [nobody?.gid, nobody?.gid, nobody?.gid, nobody?.gid],
      'every gid: nobody’s own group',
    );
    assert.deepEqual(groups, [], 'no supplementary groups (root has some)');
    // The sockets were made by root (their owner) before the switch: nobody could not bind port 13.
    const tcp = parseProcNet(readFileSync(`/proc/${server.pid}/net/tcp6`, 'utf8'), 6);
    const listening = tcp.filter((row) => row.state === '0A' && [13, 37].includes(row.port));
    assert.equal(listening.length, 2, 'daytime and time listen');
    assert.ok(listening.every((row) => row.uid === 0));
    const switched = server.logs.findIndex(
      (l) => l.uid === nobody?.id && /now running as user nobody/.test(String(l.msg)),
    );
    const ready = server.logs.findIndex((l) => l.ready === true);
    assert.ok(switched >= 0 && switched < ready, 'the switch is said before the ready line');
    assert.ok(!server.logs.some((l) => l.root === true), 'no warning about root: it is not root');
    await queryAll(ns, 2);
    const time = await inNamespace(ns, ['get', '127.0.0.1:37', '--time', '--json']);
    assert.equal(time.code, 0, time.stderr);
    assert.match(JSON.parse(time.stdout).time ?? '', /^\d{4}-/);
    const healthz =
      'fetch("http://127.0.0.1:99/healthz").then((r) => r.text()).then((t) => process.stdout.write(t))';
    const metrics = await inNamespace(ns, ['-e', healthz], '');
    assert.equal(metrics.stdout, 'ok\n', 'the metrics port (below 1024 too) was bound before the switch');
    assert.equal((await server.stop()).code, 0);
  } finally {
    ns.remove();
  }
});

test('serve --workers 2 --user nobody --group daemon: the primary and each worker, a replacement too, run as nobody:daemon', async (t) => {
  const why = rootUnavailable();
  if (why) return t.skip(why);
  const identity = {
    user: { name: 'nobody', id: nobody?.id ?? -1 },
    group: { name: 'daemon', id: daemon?.id ?? -1 },
  };
  const blocked = unreachableBy(identity, NODE, true) ?? unreachableBy(identity, CLI);
  if (blocked) return t.skip(`nobody cannot reach ${blocked}, and each worker runs this checkout as nobody`);
  const ns = makeNetns('userw');
  try {
    const server = await startCliServer(
      ['--port', '13', '--udp', '--workers', '2', '--user', 'nobody', '--group', 'daemon', '--quiet'],
      (l) => l.ready === true,
      withGroups(ns),
    );
    const ready = server.logs.find((l) => l.ready === true);
    const workers = (ready?.pids as number[]) ?? [];
    assert.equal(workers.length, 2);
    for (const pid of [server.pid, ...workers]) {
      const { uid, gid, groups } = ids(pid);
      assert.ok(
        uid.every((id) => id === nobody?.id),
        `pid ${pid}: uid ${uid}`,
      );
      assert.ok(
        gid.every((id) => id === daemon?.id),
        `pid ${pid}: gid ${gid}`,
      );
      assert.deepEqual(groups, [], `pid ${pid}: no supplementary groups`);
    }
    await queryAll(ns, 3);
    process.kill(workers[0] ?? 0, 'SIGKILL');
    const replaced = await waitFor(
      () => server.logs.filter((l) => /^worker 1 ready/.test(String(l.msg))),
      (lines) => lines.length >= 2,
    );
    const replacement = Number(replaced.at(-1)?.workerPid);
    assert.notEqual(replacement, workers[0]);
    assert.ok(
      ids(replacement).uid.every((id) => id === nobody?.id),
      'the replacement is nobody too',
    );
    await queryAll(ns, 3);
    assert.equal((await server.stop()).code, 0);
  } finally {
    ns.remove();
  }
});

test('serve as root without --user warns once; with --user, or not as root, it does not', async () => {
  const root = process.geteuid?.() === 0;
  const server = await startQuietServer();
  const warnings = server.logs.filter((l) => l.root === true);
  assert.equal((await server.stop()).code, 0);
  assert.equal(warnings.length, root ? 1 : 0);
  if (root) assert.match(String(warnings[0]?.msg), /running as root: with --user NAME/);
  if (!root || !nobody) return;
  const dropped = await startQuietServer(['--user', 'nobody']);
  assert.equal((await dropped.stop()).code, 0);
  assert.ok(!dropped.logs.some((l) => l.root === true));
  // --user root (or any uid 0) stays root: still warned.
  const still = await startQuietServer(['--user', 'root']);
  assert.equal((await still.stop()).code, 0);
  assert.equal(still.logs.filter((l) => l.root === true).length, 1);
});

test('a user or group this system does not know is bad input: exit 2, one line, no socket made', async (t) => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--user', 'no-such-user-daytime'], {}, /^daytime serve: --user must be a user this system knows/],
    [
      ['--user', 'nobody', '--group', 'no-such-group'],
      {},
      /^daytime serve: --group must be a group this system knows/,
    ],
    [['--group', 'daemon'], {}, /^daytime serve: --group needs --user/],
    [['--user', 'a b'], {}, /^daytime serve: --user must be a user name or id/],
    [
      [],
      { DAYTIME_USER: 'no-such-user-daytime' },
      /^daytime serve: DAYTIME_USER must be a user this system knows/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const result = await runBin(['serve', '--port', '0', ...args], { env });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, message);
  }
  if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0)
    return missingPeer(t, 'strace is not installed (apt-get install strace)');
  const dir = mkdtempSync(join(tmpdir(), 'daytime-user-'));
  try {
    const trace = join(dir, 'trace');
    const args = ['-f', '-qq', '-e', 'trace=socket,bind', '-o', trace, NODE, CLI, 'serve', '--port', '0'];
    const result = await collect(
      spawn('strace', [...args, '--user', 'no-such-user-daytime'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    assert.equal(result.code, 2);
    const calls = readFileSync(trace, 'utf8');
    assert.doesNotMatch(calls, /socket\(AF_INET6?,|bind\(/, 'no network socket before the exit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a group by number: one without a group entry is taken as its gid, as a primary group without one is', () => {
  let free = 4000;
  while (spawnSync('getent', ['group', String(free)]).status === 0) free++;
  assert.deepEqual(groupOption('group', String(free)), { name: String(free), id: free });
  assert.throws(
    () => groupOption('group', 'no-such-group-daytime'),
    /group must be a group this system knows/,
  );
  // user@domain (SSSD, winbind) is a name to look up, not a malformed one.
  assert.throws(() => userOption('user', 'nobody@example.invalid'), /user must be a user this system knows/);
});

test('--user that this process cannot take: exit 1 with the reason, before any socket', async (t) => {
  const root = process.geteuid?.() === 0;
  if (!root) {
    const result = await runBin(['serve', '--port', '0', '--user', 'root']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^daytime serve: --user root needs root; this process runs as uid \d+\n$/);
    return;
  }
  if (!nobody || !daemon) return t.skip('needs the user nobody and the group daemon');
  const identity = { user: { name: 'nobody', id: nobody.id }, group: { name: 'nobody', id: nobody.gid } };
  const blocked = unreachableBy(identity, NODE, true) ?? unreachableBy(identity, CLI);
  if (blocked) return t.skip(`nobody cannot reach ${blocked} to run this checkout`);
  const asNobody = ['setpriv', `--reuid=${nobody.id}`, `--regid=${nobody.gid}`, '--clear-groups'];
  const result = await runBin(['serve', '--port', '0', '--user', 'daemon'], { prefix: asNobody });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^daytime serve: --user daemon needs root; this process runs as uid \d+\n$/);
  // CAP_SETUID and CAP_SETGID without root: the switch would happen, but the capabilities outlive it
  // and root could be had again, so this is refused too, before any socket (it used to bind and then
  // fail after the switch).
  const withCaps = [...asNobody, '--inh-caps=+setuid,+setgid', '--ambient-caps=+setuid,+setgid'];
  const capable = await runBin(['serve', '--port', '0', '--user', 'daemon'], { prefix: withCaps });
  assert.equal(capable.code, 1, capable.stderr);
  assert.match(capable.stderr, /^daytime serve: --user daemon needs root; this process runs as uid \d+\n$/);
  assert.doesNotMatch(capable.stdout, /listening on/);
});

// A copy of the package in a directory only root may enter, as a clone under /root is.
function unreadableCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'daytime-0700-'));
  chmodSync(dir, 0o700);
  cpSync(`${ROOT}dist`, join(dir, 'dist'), { recursive: true });
  cpSync(`${ROOT}package.json`, join(dir, 'package.json'));
  symlinkSync(`${ROOT}node_modules`, join(dir, 'node_modules'));
  return dir;
}

test('--user from a copy the user cannot read: metrics and PROXY on the ring still load (before the switch)', async (t) => {
  if (process.geteuid?.() !== 0 || !nobody) return t.skip('needs root and a user nobody');
  const dir = unreadableCopy();
  try {
    const args = ['--host', '127.0.0.1', '--port', '0', '--quiet', '--user', 'nobody'];
    const metricsPort = await freePort();
    const command = [NODE, join(dir, 'dist', 'cli.js')];
    const server = await startCliServer(
      [...args, '--metrics', `127.0.0.1:${metricsPort}`, '--proxy-protocol', '--proxy-from', '127.0.0.1'],
      undefined,
      command,
    );
    try {
      assert.deepEqual(ids(server.pid).uid, Array(4).fill(nobody.id), 'running as nobody');
      const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(body, /^daytime_connections_total /m);
      const ready = server.logs.find((l) => l.ready === true);
      const plain = await startCliServer([
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--quiet',
        '--proxy-protocol',
        '--proxy-from',
        '127.0.0.1',
      ]);
      const unswitched = plain.logs.find((l) => l.ready === true)?.acceptPath;
      assert.equal((await plain.stop()).code, 0);
      // The path the same flags take without --user (proxy-uring where the kernel has the chains).
      assert.equal(ready?.acceptPath, unswitched);
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workers --user where the user cannot read the CLI: exit 1 naming the directory, before any socket', async (t) => {
  if (process.geteuid?.() !== 0 || !nobody) return t.skip('needs root and a user nobody');
  const dir = unreadableCopy();
  try {
    const child = spawn(
      NODE,
      [join(dir, 'dist', 'cli.js'), 'serve', '--port', '0', '--workers', '2', '--user', 'nobody'],
      {
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      },
    );
    const result = await collect(child);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^daytime serve: --workers with --user nobody: the workers run .* as nobody, who cannot reach ${dir}`,
      ),
    );
    assert.doesNotMatch(result.stdout, /listening on/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
