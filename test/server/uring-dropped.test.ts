import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { EBADR } from '../../src/kernel/uring-loop.ts';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import type { UringSyscalls } from '../../src/kernel/uring-syscalls.ts';
import type { ConnectionHooks } from '../../src/tcp/accept/types.ts';
import { isAcceptor } from '../../src/tcp/accept/types.ts';
import { ACCEPTS, uringAcceptPath } from '../../src/tcp/accept/uring-accept-path.ts';
import { URING_UNAVAILABLE } from '../helpers/accept.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

// The kernel drops completions when its completion ring is full and it has no memory to hold more; it
// says so once, with EBADR from the io_uring_enter that waited. Whether a dropped completion was an
// accept's is unknown, and an accept whose completion is lost is never armed again: the uring path
// cancels every accept and arms them all anew, counts the error, and keeps serving.

const support = await uringSupport();
const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');

// Accept requests in flight on this process's rings, from the kernel's fdinfo (op 13: ACCEPT).
function acceptsInFlight(): number | undefined {
  let accepts: number | undefined;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (!readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring')) continue;
      const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      if (!info.includes('PollList:')) continue;
      accepts = (accepts ?? 0) + (info.match(/^\s+op=13\b/gm)?.length ?? 0);
    } catch {}
  }
  return accepts;
}

test('completions dropped by the kernel: every accept is armed anew, the error counted, clients served', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  let dropNext = false;
  let errno: number | undefined;
  const sys: UringSyscalls = {
    ...support.sys,
    enter(...args) {
      const result = support.sys.enter(...args);
      if (!dropNext || args[3] === 0) return result;
      dropNext = false;
      errno = EBADR;
      return -1;
    },
    errno() {
      const e = errno ?? support.sys.errno();
      errno = undefined;
      return e;
    },
  };
  const acceptErrors: string[] = [];
  let served = 0;
  const hooks: ConnectionHooks = {
    reply: () => reply,
    admit: () => true,
    full: () => false,
    keep: () => true,
    served: () => served++,
    error: () => {},
    acceptError: (code, message) => acceptErrors.push(`${code}: ${message}`),
    pending: () => () => {},
    closed: () => {},
    header: () => {},
    refused: () => {},
  };
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const acceptor = uringAcceptPath(sys, support.calls).take(server, hooks);
  assert.ok(isAcceptor(acceptor));
  try {
    assert.match((await rawQuery(port)).data.toString('latin1'), CTIME_LINE);
    dropNext = true;
    assert.match((await rawQuery(port)).data.toString('latin1'), CTIME_LINE);
    await waitFor(
      () => acceptErrors.length,
      (n) => n > 0,
    );
    assert.equal(acceptErrors.length, 1, acceptErrors.join('\n'));
    assert.match(acceptErrors[0] ?? '', /^EBADR: io_uring dropped 1 completion/);
    const armed = await waitFor(acceptsInFlight, (n) => n === undefined || n === ACCEPTS);
    if (armed !== undefined) assert.equal(armed, ACCEPTS, 'the old accepts cancelled, the new ones armed');
    const replies = await Promise.all(Array.from({ length: 40 }, () => rawQuery(port)));
    for (const r of replies) assert.match(r.data.toString('latin1'), CTIME_LINE);
    assert.equal(served, 42);
  } finally {
    await acceptor.close();
  }
});
