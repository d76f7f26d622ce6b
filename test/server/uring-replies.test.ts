import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RingLoop } from '../../src/kernel/uring-loop.ts';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import { UringReplies } from '../../src/tcp/accept/uring-replies.ts';
import { URING_UNAVAILABLE } from '../helpers/accept.ts';
import { fullConnection, isOpen, readsFillerThenReply, recordingHooks } from '../helpers/full-connection.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';

// The uring path's send that cannot complete at once, on a real connection whose send buffer was filled
// first (helpers/full-connection.ts): the ring's send fails at once instead of waiting in the kernel, its
// linked close does not run, and the reply goes to the path that can wait, under the write timeout.
const support = await uringSupport();
const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');

async function sendOnRing() {
  if (!support.ok) throw new Error('no io_uring');
  const { sys, calls } = support;
  const connection = await fullConnection(calls);
  const { seen, hooks } = recordingHooks();
  // The reply goes on its way (closed), then must wait after all: open again (kept) until it is done.
  const kept = { count: 0 };
  const keep = () => {
    kept.count++;
    return true;
  };
  const replies = new UringReplies(calls, { ...hooks, keep, reply: () => reply });
  const loop = RingLoop.open(
    sys,
    calls,
    { entries: 8, budget: 16 },
    {
      completed: (tag, fd, result) => replies.completed(tag & 0xff, tag >>> 8, fd, result),
      dropped: () => assert.fail('no completion is dropped'),
    },
  );
  assert.ok(loop instanceof RingLoop, 'a ring');
  replies.send(loop, connection.fd);
  loop.run();
  await waitFor(
    () => seen.pending.length,
    (n) => n === 1,
  );
  return { ...connection, seen, kept, replies, loop };
}

test('a send the kernel cannot take at once is handed over, then sent whole once the client reads', async (t) => {
  if (URING_UNAVAILABLE) return missingPeer(t, URING_UNAVAILABLE);
  const { fd, client, filled, seen, kept, replies, loop } = await sendOnRing();
  assert.equal(seen.pending.length, 1, 'handed to the path that can wait, under the write timeout');
  assert.equal(replies.inFlight, 0, 'nothing of it left in the ring');
  assert.equal(seen.served, 0);
  assert.ok(isOpen(fd), 'the linked close did not run');
  await readsFillerThenReply(client, filled, reply);
  assert.deepEqual([seen.served, seen.closed - kept.count, seen.errors, seen.released], [1, 1, [], 1]);
  assert.equal(isOpen(fd), false, 'the descriptor is closed');
  loop.close();
  replies.free();
  client.destroy();
});

test('a client that never reads: the write timeout closes what the ring handed over, once', async (t) => {
  if (URING_UNAVAILABLE) return missingPeer(t, URING_UNAVAILABLE);
  const { fd, client, seen, kept, replies, loop } = await sendOnRing();
  await sleep(100);
  assert.ok(isOpen(fd));
  // What the service's sweep does at the deadline (it counts ETIMEDOUT itself).
  seen.pending[0]?.();
  seen.pending[0]?.();
  assert.equal(isOpen(fd), false);
  assert.deepEqual([seen.served, seen.closed - kept.count], [0, 1]);
  loop.close();
  replies.free();
  client.destroy();
});
