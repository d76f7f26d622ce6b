import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSocketCalls } from '../../src/kernel/socket-calls.ts';
import { waitToWrite } from '../../src/tcp/accept/libc-pending-write.ts';
import { fullConnection, isOpen, readsFillerThenReply, recordingHooks } from '../helpers/full-connection.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';

// The libc path's write that cannot complete at once, on a real connection whose send buffer was filled
// first (helpers/full-connection.ts).
const calls = await loadSocketCalls().catch(() => undefined);
const skip = 'the libc accept path (koffi, Linux) does not load here';

test('a reply the kernel cannot take waits, and is sent whole once the client reads', async (t) => {
  if (!calls) return missingPeer(t, skip);
  const { fd, client, filled } = await fullConnection(calls);
  const { seen, hooks } = recordingHooks();
  const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');
  waitToWrite(calls, hooks, fd, reply);
  await sleep(200);
  assert.equal(seen.served, 0, 'nothing to send while the client does not read');
  assert.equal(seen.pending.length, 1, 'handed to the service for its write timeout');
  await readsFillerThenReply(client, filled, reply);
  assert.deepEqual(seen, { served: 1, closed: 1, errors: [], pending: seen.pending, released: 1 });
  assert.equal(isOpen(fd), false, 'the descriptor is closed');
  client.destroy();
});

test('a client that never reads: the write timeout closes the descriptor, once', async (t) => {
  if (!calls) return missingPeer(t, skip);
  const { fd, client } = await fullConnection(calls);
  const { seen, hooks } = recordingHooks();
  waitToWrite(calls, hooks, fd, Buffer.from('x\r\n'));
  await sleep(200);
  assert.ok(isOpen(fd));
  // What the service's sweep does at the deadline (it counts ETIMEDOUT itself).
  seen.pending[0]?.();
  seen.pending[0]?.();
  assert.equal(isOpen(fd), false);
  assert.equal(seen.closed, 1);
  assert.equal(seen.served, 0);
  // The client sees the connection end once it reads what was sent before.
  client.resume();
  client.on('error', () => {});
  await waitFor(
    () => client.readableEnded || client.destroyed,
    (ended) => ended,
    'the client sees the connection end',
  );
  client.destroy();
});
