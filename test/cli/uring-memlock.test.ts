import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { URING_UNAVAILABLE } from '../helpers/accept.ts';
import { ROOT } from '../helpers/cli.ts';
import { spawnUntilReady } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

// An ordinary user's rings are charged to RLIMIT_MEMLOCK (Linux 6.14 and later), long 64 KiB by
// default, and Node's own libuv holds rings under the same limit. Where the limit leaves no room for the
// uring path's ring, `auto` runs on libc and says why, whether the support check's ring is refused or
// a later listener's.

const NODE = `${ROOT}node_modules/.bin/node`;
const BIN = `${ROOT}dist/cli.js`;
// An unprivileged uid of its own per run (the kernel sums locked memory per user), able to read the
// checkout wherever it is (CAP_DAC_READ_SEARCH only: no CAP_IPC_LOCK, so its rings are charged).
const asUser = (memlock: number, uid: number) => [
  `--memlock=${memlock}`,
  'setpriv',
  `--reuid=${uid}`,
  `--regid=${uid}`,
  '--clear-groups',
  '--inh-caps=+dac_read_search',
  '--ambient-caps=+dac_read_search',
  NODE,
  BIN,
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--log-format',
  'json',
  '--quiet',
];
let nextUid = 47_000 + (process.pid % 1000) * 10;

type Ready = {
  acceptPath: string;
  acceptFallback?: { path: string; code: string; reason: string };
  msg: string;
};

function unavailable(): string | undefined {
  if (URING_UNAVAILABLE) return URING_UNAVAILABLE;
  if (process.getuid?.() !== 0) return 'needs root, to run the server as another user';
  for (const tool of ['prlimit', 'setpriv'])
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0)
      return `${tool} (util-linux) is missing`;
  return undefined;
}

async function serveAs(memlock: number, extra: string[] = []) {
  const { child, exited, ...ready } = await spawnUntilReady('prlimit', [
    ...asUser(memlock, nextUid++),
    ...extra,
  ]);
  return { child, exited, port: ready.port, pid: ready.pid, ready: ready as unknown as Ready };
}

// Bytes locked by the io_uring instances a process holds, from its fdinfo, as the kernel counts pages.
function ringBytes(pid: number): number {
  let bytes = 0;
  const pages = (n: number) => Math.ceil(n / 4096) * 4096;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (!readlinkSync(`/proc/${pid}/fd/${fd}`).includes('io_uring')) continue;
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      const entries = (name: string) =>
        Number(new RegExp(`^${name}:\\s*(0x[0-9a-f]+)`, 'm').exec(info)?.[1]) + 1;
      bytes += pages(192 + entries('CqMask') * 16 + entries('SqMask') * 4) + pages(entries('SqMask') * 64);
    } catch {}
  }
  return bytes;
}

test('an unprivileged user with RLIMIT_MEMLOCK 64 KiB: auto runs on libc and the ready line says why', async (t) => {
  const why = unavailable();
  if (why) return missingPeer(t, why);
  const server = await serveAs(64 * 1024);
  try {
    assert.equal(server.ready.acceptPath, 'libc');
    assert.equal(server.ready.acceptFallback?.code, 'ENOMEM');
    assert.match(server.ready.msg, /uring not used: .*ENOMEM: RLIMIT_MEMLOCK is 64 KiB/);
    assert.match((await rawQuery(server.port)).data.toString('latin1'), CTIME_LINE);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

test("a limit with room for one ring but not two: the second listener's fallback is named too", async (t) => {
  const why = unavailable();
  if (why) return missingPeer(t, why);
  // What the process holds with room for everything: libuv's rings and one ring per listener.
  const roomy = await serveAs(4 * 1024 * 1024, ['--time-port', '0']);
  const all = ringBytes(roomy.pid);
  roomy.child.kill('SIGTERM');
  await roomy.exited;
  assert.equal(roomy.ready.acceptPath, 'uring');
  // Less than a whole ring short: the second listener's ring is refused.
  const server = await serveAs(all - 8 * 1024, ['--time-port', '0']);
  try {
    assert.equal(server.ready.acceptPath, 'uring,libc');
    assert.equal(server.ready.acceptFallback?.code, 'ENOMEM');
    assert.match(server.ready.msg, /uring not used: .*RLIMIT_MEMLOCK/);
    assert.match((await rawQuery(server.port)).data.toString('latin1'), CTIME_LINE);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
});
