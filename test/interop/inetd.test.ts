import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeTime } from '../../src/index.ts';
import { makeNetns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { parseProcNet } from '../../src/kernel/proc-net.ts';
import { userOption } from '../../src/options/accounts.ts';
import { unreachableBy } from '../../src/process/privileges.ts';
import { CLI_ENV, collect, ROOT, runCli } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const NODE = `${ROOT}node_modules/.bin/node`;

// An inetd-style spawner: socat accepts, and for each connection runs `daytime serve --inetd` with the
// connection on its standard input and output (inetd's "nowait").
async function spawner(args: string) {
  const port = await freePort();
  const child = spawn(
    'socat',
    [
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
      `EXEC:${NODE} ${ROOT}dist/cli.js serve --inetd${args ? ` ${args}` : ''}`,
    ],
    { env: CLI_ENV, stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    if (spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout.includes('LISTEN')) break;
    await sleep(50);
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

test('serve --inetd under socat EXEC: one line per connection, from a process of its own', async (t) => {
  if (!hasSocat) return missingPeer(t, 'socat is not installed (apt-get install socat)');
  const { port, stop } = await spawner('');
  try {
    // Each resolved on the server's EOF: the process ended the connection it was handed.
    const replies = await Promise.all(Array.from({ length: 5 }, () => rawQuery(port)));
    for (const reply of replies) assert.match(reply.data.toString('latin1'), CTIME_LINE);
  } finally {
    stop();
  }
});

test('serve --inetd time: the 4 bytes of RFC 868; --format iso: that line', async (t) => {
  if (!hasSocat) return missingPeer(t, 'socat is not installed (apt-get install socat)');
  const time = await spawner('time');
  const iso = await spawner('--format iso');
  try {
    const reply = await rawQuery(time.port);
    assert.equal(reply.data.length, 4);
    assert.ok(Math.abs(decodeTime(reply.data) - Date.now()) < 5000);
    assert.match(
      (await rawQuery(iso.port)).data.toString('latin1'),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\r\n$/,
    );
  } finally {
    time.stop();
    iso.stop();
  }
});

test('serve --inetd with an option that chooses sockets: exit 2, one line naming both', async () => {
  for (const [flag, value] of [
    ['--port', '13'],
    ['--workers', '2'],
    ['--udp', undefined],
  ] as const) {
    const r = await runCli(['serve', '--inetd', flag, ...(value ? [value] : [])]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^daytime serve: --inetd and ${flag} cannot be used together: inetd hands over one connection`,
      ),
    );
  }
  const r = await runCli(['serve', '--inetd', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--inetd must be one of daytime, time/);
});

// The snippets in deploy/ as written, for a clone at /opt/daytime: here the clone is this checkout.
function snippet(path: string): string {
  return readFileSync(`${ROOT}${path}`, 'utf8').replaceAll('/opt/daytime/', ROOT);
}

// Debian's xinetd conflicts with openbsd-inetd (both provide inet-superserver): where inetd is
// installed, .ci/run unpacks xinetd's package into .ci/peers/xinetd instead of installing it.
const XINETD = ['/usr/sbin/xinetd', `${ROOT}.ci/peers/xinetd/usr/sbin/xinetd`].find((p) => existsSync(p));

// A superserver in a network namespace of the test's own, on ports 13 and 37 as its configuration
// says; both services queried there, each answered by a process it started as nobody.
async function underSuperserver(t: TestContext, command: (conf: string) => string[], conf: string) {
  const why = netnsUnavailable('ip netns');
  if (why) return t.skip(why);
  const nobody = userOption('user', 'nobody');
  const identity = { user: nobody, group: nobody.group };
  const blocked =
    unreachableBy(identity, `${ROOT}node_modules/.bin/node`, true) ??
    unreachableBy(identity, `${ROOT}dist/cli.js`);
  if (blocked) return t.skip(`nobody, whom the snippet runs daytime as, cannot reach ${blocked}`);
  const dir = mkdtempSync(join(tmpdir(), 'daytime-superserver-'));
  const ns = makeNetns('inetd');
  try {
    writeFileSync(join(dir, 'conf'), conf);
    const [file = '', ...args] = ns.exec(command(join(dir, 'conf')));
    const server = spawn(file, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = collect(server);
    try {
      // `ip netns exec` becomes the superserver: its /proc/PID/net is the namespace's.
      const listening = () => {
        const rows = existsSync(`/proc/${server.pid}/net/tcp6`)
          ? parseProcNet(readFileSync(`/proc/${server.pid}/net/tcp6`, 'utf8'), 6)
          : [];
        return rows.concat(parseProcNet(readFileSync(`/proc/${server.pid}/net/tcp`, 'utf8')));
      };
      const ports = await waitFor(
        () =>
          new Set(
            listening()
              .filter((r) => r.state === '0A')
              .map((r) => r.port),
          ),
        (seen) => (seen.has(13) && seen.has(37)) || server.exitCode !== null,
      );
      assert.ok(ports.has(13) && ports.has(37), `listening on 13 and 37: ${[...ports].join(', ')}`);
      const query = (args: string[]) => {
        const [q = '', ...rest] = ns.exec([
          `${ROOT}node_modules/.bin/node`,
          `${ROOT}dist/cli.js`,
          'get',
          ...args,
        ]);
        return collect(spawn(q, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }));
      };
      for (let i = 0; i < 3; i++) {
        const daytime = await query(['127.0.0.1:13']);
        assert.equal(daytime.code, 0, daytime.stderr);
        assert.match(daytime.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
      }
      const time = await query(['127.0.0.1:37', '--time', '--json']);
      assert.equal(time.code, 0, time.stderr);
      assert.ok(Math.abs(JSON.parse(time.stdout).offsetMs) < 5000);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  } finally {
    ns.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('deploy/inetd/inetd.conf as written, under openbsd-inetd: daytime on 13 and time on 37', async (t) => {
  if (!existsSync('/usr/sbin/inetd'))
    return missingPeer(t, 'inetd is not installed (apt-get install openbsd-inetd)');
  // -d: in the foreground, no pid file of the machine's own inetd touched.
  await underSuperserver(t, (conf) => ['/usr/sbin/inetd', '-d', conf], snippet('deploy/inetd/inetd.conf'));
});

test("deploy/xinetd/daytime-node as written, under Debian's xinetd: daytime on 13 and time on 37", async (t) => {
  if (!XINETD)
    return missingPeer(
      t,
      'xinetd is not installed (apt-get install xinetd, or where openbsd-inetd is: apt-get download xinetd ' +
        '&& dpkg-deb -x xinetd_*.deb .ci/peers/xinetd)',
    );
  const pidfile = mkdtempSync(join(tmpdir(), 'daytime-xinetd-'));
  try {
    await underSuperserver(
      t,
      (conf) => [XINETD, '-dontfork', '-f', conf, '-pidfile', join(pidfile, 'pid')],
      snippet('deploy/xinetd/daytime-node'),
    );
  } finally {
    rmSync(pidfile, { recursive: true, force: true });
  }
});
