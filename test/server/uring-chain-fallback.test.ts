import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import { acceptPaths, takeListener } from '../../src/tcp/accept/choose.ts';
import { libcPath } from '../../src/tcp/accept/libc-path.ts';
import { uringAcceptPath } from '../../src/tcp/accept/uring-accept-path.ts';
import { UringUnavailable, withUringFallback } from '../../src/tcp/accept/uring-choice.ts';
import { CHAINS_UNAVAILABLE, URING_UNAVAILABLE } from '../helpers/accept.ts';
import { plainHooks } from '../helpers/hooks.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

// Where the kernel cannot serve whole connections in the ring (before Linux 6.8: no
// IORING_OP_FIXED_FD_INSTALL), `auto` takes uring-accept, and the listener says why the chains did not
// run. The kernel here has the chains, so the refusal is the one uring-choice.ts makes of an older
// kernel's probe, handed to the real choice with the real paths.

const support = await uringSupport();
const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');
const hooks = () => plainHooks(reply);

async function listening(): Promise<net.Server> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('chains refused (an older kernel): auto serves on uring-accept and names the reason', async (t) => {
  if (!support.ok) return t.skip(URING_UNAVAILABLE ?? 'no io_uring');
  const tooOld = {
    path: 'uring' as const,
    code: 'too-old',
    reason: "this kernel's io_uring lacks moving a direct descriptor into the descriptor table (6.8)",
  };
  const paths = withUringFallback([
    new UringUnavailable(tooOld),
    uringAcceptPath(support.sys, support.calls),
    libcPath(support.calls),
  ]);
  const server = await listening();
  const { port } = server.address() as net.AddressInfo;
  const acceptor = takeListener(server, hooks(), paths);
  try {
    assert.equal(acceptor.path, 'uring-accept');
    assert.deepEqual(acceptor.fallback, tooOld);
    assert.match((await rawQuery(port)).data.toString('latin1'), CTIME_LINE);
  } finally {
    await acceptor.close();
  }
});

test('auto here: the chains, with no fallback to name', async (t) => {
  if (CHAINS_UNAVAILABLE) return t.skip(CHAINS_UNAVAILABLE);
  const server = await listening();
  const { port } = server.address() as net.AddressInfo;
  const acceptor = takeListener(server, hooks(), await acceptPaths({ path: 'auto' }));
  try {
    assert.equal(acceptor.path, 'uring');
    assert.equal(acceptor.fallback, undefined);
    assert.match((await rawQuery(port)).data.toString('latin1'), CTIME_LINE);
  } finally {
    await acceptor.close();
  }
});
