import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { test } from 'node:test';
import { ENTER_GETEVENTS, indexDistance, nextIndex, Ring } from '../../src/kernel/uring.ts';
import { EBADR, RingLoop } from '../../src/kernel/uring-loop.ts';
import { prepNop } from '../../src/kernel/uring-requests.ts';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import type { UringSyscalls } from '../../src/kernel/uring-syscalls.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';
import { UringReplies } from '../../src/tcp/accept/uring-replies.ts';
import { URING_UNAVAILABLE } from '../helpers/accept.ts';
import { recordingHooks } from '../helpers/full-connection.ts';
import { missingPeer } from '../helpers/peers.ts';

// The ring code itself, on real rings, with the kernel's answers it cannot be made to give on demand
// (a failed mapping, EBUSY, EBADR) put in front of the real system calls.

const support = await uringSupport();
const { EBUSY, ENOMEM, EBADF } = constants.errno;

// The real system calls, with `enter` and `map` answerable by the test.
function faulty(sys: UringSyscalls) {
  const state = {
    errno: undefined as number | undefined,
    // io_uring_enter answers -1/errno without entering the kernel (EBUSY: it took nothing).
    refuseEnter: undefined as number | undefined,
    // io_uring_enter enters the kernel, then answers -1/errno (EBADR: completions were dropped).
    afterEnter: undefined as number | undefined,
    // The n-th mapping (0-based) fails with ENOMEM; each unmap then leaves EBADF in errno.
    failMap: -1,
    maps: 0,
    setupFds: [] as number[],
  };
  const wrapped: UringSyscalls = {
    ...sys,
    setup(entries, params) {
      const fd = sys.setup(entries, params);
      if (fd >= 0) state.setupFds.push(fd);
      return fd;
    },
    enter(...args) {
      if (state.refuseEnter !== undefined) {
        state.errno = state.refuseEnter;
        return -1;
      }
      const result = sys.enter(...args);
      if (state.afterEnter === undefined) return result;
      state.errno = state.afterEnter;
      state.afterEnter = undefined;
      return -1;
    },
    map(fd, length, offset) {
      if (state.maps++ === state.failMap) {
        state.errno = ENOMEM;
        return undefined;
      }
      const mapping = sys.map(fd, length, offset);
      return (
        mapping && {
          ...mapping,
          unmap() {
            state.errno = EBADF;
            mapping.unmap();
          },
        }
      );
    },
    errno() {
      const errno = state.errno ?? sys.errno();
      state.errno = undefined;
      return errno;
    },
  };
  return { state, sys: wrapped };
}

const isRing = (fd: number) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).includes('io_uring');
  } catch {
    return false;
  }
};

test("ring indexes wrap at 2^32 as the kernel's u32 counters do", () => {
  assert.equal(nextIndex(2 ** 32 - 1), 0);
  assert.equal(nextIndex(2 ** 32 - 2, 3), 1);
  // Queued entries and posted completions across the wrap.
  assert.equal(indexDistance(0, 2 ** 32 - 1), 1);
  assert.equal(indexDistance(5, 2 ** 32 - 3), 8);
  assert.equal(indexDistance(7, 7), 0);
  // A tail that wrapped a thousand times over still counts from the head it belongs with.
  let tail = 2 ** 32 - 4;
  const head = tail;
  for (let i = 0; i < 10; i++) tail = nextIndex(tail);
  assert.equal(tail, 6);
  assert.equal(indexDistance(tail, head), 10);
});

test('a mapping that fails closes the ring descriptor and reports its own errno', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  for (const failMap of [0, 1, 2]) {
    const { state, sys } = faulty(support.sys);
    state.failMap = failMap;
    const ring = Ring.create(sys, 8);
    // A kernel that maps both rings at once makes two mappings: the third then never fails.
    if (ring instanceof Ring) {
      assert.equal(failMap, 2, 'only the third mapping may be missing');
      ring.close();
      continue;
    }
    assert.equal(ring.errno, ENOMEM, `the errno of mapping ${failMap}, not of the unmapping after it`);
    assert.equal(state.setupFds.length, 1);
    assert.equal(isRing(state.setupFds[0] ?? -1), false, 'the ring descriptor is closed');
  }
});

test('a full submission ring refuses a request instead of overwriting one not yet submitted', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  const { state, sys } = faulty(support.sys);
  const ring = Ring.create(sys, 8);
  assert.ok(ring instanceof Ring);
  try {
    state.refuseEnter = EBUSY;
    for (let tag = 1; tag <= ring.entries; tag++) assert.equal(prepNop(ring, { tag }), true);
    assert.equal(ring.reserve(1), false, 'the kernel took nothing: still no room');
    assert.equal(prepNop(ring, { tag: 99 }), false, 'refused');
    state.refuseEnter = undefined;
    assert.equal(ring.enter(ENTER_GETEVENTS, ring.entries), ring.entries);
    const tags = Array.from({ length: ring.ready() }, (_, i) => ring.dataLo(i));
    assert.deepEqual(
      tags,
      Array.from({ length: ring.entries }, (_, i) => i + 1),
    );
  } finally {
    ring.close();
  }
});

test('an owner that throws: its completion is not handed to it again, the rest are', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  const seen: number[] = [];
  const loop = RingLoop.open(
    support.sys,
    support.calls,
    { entries: 8, budget: 16 },
    {
      completed(tag) {
        seen.push(tag);
        if (seen.length === 1) throw new Error('a hook failed');
      },
      dropped: () => assert.fail('nothing is dropped'),
    },
  );
  assert.ok(loop instanceof RingLoop);
  try {
    for (const tag of [1, 2, 3]) prepNop(loop.ring, { tag });
    assert.throws(() => loop.run(), /a hook failed/);
    loop.run();
    assert.deepEqual(seen, [1, 2, 3], 'each completion handled once');
  } finally {
    loop.close();
  }
});

test('completions the kernel dropped (EBADR) are reported to the owner, and the round goes on', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  const { state, sys } = faulty(support.sys);
  const seen: number[] = [];
  const dropped: number[] = [];
  const loop = RingLoop.open(
    sys,
    support.calls,
    { entries: 8, budget: 16 },
    { completed: (tag) => seen.push(tag), dropped: (count) => dropped.push(count) },
  );
  assert.ok(loop instanceof RingLoop);
  try {
    prepNop(loop.ring, { tag: 7 });
    state.afterEnter = EBADR;
    loop.run();
    loop.run();
    assert.deepEqual(dropped, [1], 'told once');
    assert.deepEqual(seen, [7], 'what was posted is still handled');
  } finally {
    loop.close();
  }
});

test('a reply the ring has no room for is written at once, and the connection closed', async (t) => {
  if (!support.ok) return missingPeer(t, URING_UNAVAILABLE ?? 'no io_uring');
  const { sys: real, calls } = support;
  const { state, sys } = faulty(real);
  const listener = await RawSocket.inet(SOCK_STREAM);
  await listener.listen(4);
  const client = net.connect(listener.port, '127.0.0.1');
  await once(client, 'connect');
  let fd: number | undefined;
  for (let i = 0; i < 200 && fd === undefined; i++) {
    fd = listener.acceptOne();
    if (fd === undefined) await new Promise((r) => setTimeout(r, 5));
  }
  listener.close();
  assert.ok(fd !== undefined);
  const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');
  const { seen, hooks } = recordingHooks();
  const replies = new UringReplies(calls, { ...hooks, keep: () => true, reply: () => reply });
  const loop = RingLoop.open(
    sys,
    calls,
    { entries: 8, budget: 16 },
    { completed: () => assert.fail('nothing was queued'), dropped: () => {} },
  );
  assert.ok(loop instanceof RingLoop);
  const received: Buffer[] = [];
  client.on('data', (chunk: Buffer) => received.push(chunk));
  try {
    state.refuseEnter = EBUSY;
    for (let tag = 1; tag <= loop.ring.entries; tag++) prepNop(loop.ring, { tag: 100 + tag });
    replies.send(loop, fd);
    assert.deepEqual([seen.served, seen.closed, replies.inFlight], [1, 1, 0]);
    await once(client, 'end');
    assert.deepEqual(Buffer.concat(received), reply);
  } finally {
    state.refuseEnter = undefined;
    loop.close();
    replies.free();
    client.destroy();
  }
});
