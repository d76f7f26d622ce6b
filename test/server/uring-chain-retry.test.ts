import assert from 'node:assert/strict';
import net from 'node:net';
import { constants } from 'node:os';
import { test } from 'node:test';
import { prepNop } from '../../src/kernel/uring-requests.ts';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import type { UringSyscalls } from '../../src/kernel/uring-syscalls.ts';
import { dupListeningFd } from '../../src/tcp/accept/accept4.ts';
import { ChainRing } from '../../src/tcp/accept/uring-chain-ring.ts';
import { TAG } from '../../src/tcp/accept/uring-tags.ts';
import { CHAINS_UNAVAILABLE } from '../helpers/accept.ts';
import { plainHooks } from '../helpers/hooks.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';

// A slot whose hand-over (or free) finds the submission queue full is tried again a moment later. When
// a pause was already waiting (here: arming that could not queue its chain), that retry used to be
// dropped, and the slot stayed busy for good with its connection held in the ring. The queue is filled
// for real, with no-ops not yet submitted, and the kernel refuses to take them (EBUSY, as when its
// completions overflow) until the hand-over has failed once; the slot is empty, so the retried
// hand-over's install fails with EBADF, which is how the test sees that it ran.

const support = await uringSupport();
const { EBUSY } = constants.errno;

test('a slot hand-over that finds the ring full is retried, also while a pause is pending', async (t) => {
  if (!support.ok || support.chains !== true)
    return missingPeer(t, CHAINS_UNAVAILABLE ?? 'no io_uring chains');
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const errors: string[] = [];
  let closed = 0;
  const hooks = plainHooks(Buffer.from('x\r\n'), {
    error: (code) => errors.push(code),
    closed: () => closed++,
  });
  // Arming never queues a chain: arm() leaves a pause pending, as a full header table or EMFILE would.
  const owner = { chain: () => false, completed: () => {}, round: () => {} };
  // A descriptor of its own, as the path takes it (libuv polls the server's).
  const fd = dupListeningFd(support.calls, server);
  assert.ok(fd >= 0, 'the listening socket duplicated');
  let busy = false;
  let errno: number | undefined;
  const sys: UringSyscalls = {
    ...support.sys,
    enter(...args) {
      if (!busy) return support.sys.enter(...args);
      errno = EBUSY;
      return -1;
    },
    errno() {
      const e = errno ?? support.sys.errno();
      errno = undefined;
      return e;
    },
  };
  const core = ChainRing.open(sys, support.calls, fd, hooks, owner);
  assert.ok(core instanceof ChainRing, 'the chain ring opens');
  try {
    core.start();
    const { ring } = core.loop;
    let filled = 0;
    while (ring.room() > 0 && prepNop(ring, { tag: TAG.cancel })) filled++;
    assert.ok(filled > 0, 'the submission queue filled with no-ops');
    busy = true;
    core.handOver(0, () => assert.fail('an empty slot has no socket to install'), false);
    busy = false;
    await waitFor(
      () => errors.length,
      (n) => n > 0,
      'the retried hand-over',
      5000,
    );
    assert.deepEqual(errors, ['EBADF']);
    assert.equal(closed, 1, 'the hand-over that failed ends its connection once');
  } finally {
    await core.close(() => {});
    server.close();
  }
});
