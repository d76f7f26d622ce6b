import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSocketCalls, type SocketCalls } from '../../src/kernel/socket-calls.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';
import { waitToWrite } from '../../src/server/accept/libc-pending-write.ts';
import { waitFor } from '../helpers/proc.ts';

// The libc path's write that cannot complete at once. A daytime line always fits the empty send buffer
// of a new connection, so the server cannot be made to take this path from outside; here the path gets
// a real connection whose send buffer was filled first, behind a client that does not read.
const calls = await loadSocketCalls().catch(() => undefined);
const skip = calls ? undefined : 'the libc accept path (koffi, Linux) does not load here';
const EAGAIN = 11;

async function fullConnection(calls: SocketCalls) {
  const listener = await RawSocket.inet(SOCK_STREAM);
  await listener.listen(4);
  const client = net.connect(listener.port, '127.0.0.1').pause();
  await once(client, 'connect');
  let fd: number | undefined;
  for (let i = 0; i < 200 && fd === undefined; i++) {
    fd = listener.acceptOne();
    if (fd === undefined) await sleep(5);
  }
  listener.close();
  assert.ok(fd !== undefined, 'accepted');
  // Fill the send buffer (and the client's receive buffer behind it) until the kernel says EAGAIN.
  const chunk = calls.alloc(65536);
  chunk.bytes.fill(0x2e);
  let filled = 0;
  for (;;) {
    const n = calls.write(fd, chunk.address, 65536);
    if (n < 0) {
      assert.equal(calls.errno(), EAGAIN);
      break;
    }
    filled += n;
  }
  chunk.free();
  return { fd, client, filled };
}

function recordingHooks() {
  const seen = { served: 0, closed: 0, errors: [] as string[], pending: [] as (() => void)[], released: 0 };
  return {
    seen,
    hooks: {
      pending(close: () => void) {
        seen.pending.push(close);
        return () => {
          seen.released++;
        };
      },
      served: () => seen.served++,
      error: (code: string) => seen.errors.push(code),
      closed: () => seen.closed++,
    },
  };
}

const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

test('a reply the kernel cannot take waits, and is sent whole once the client reads', async (t) => {
  if (!calls) return t.skip(skip);
  const { fd, client, filled } = await fullConnection(calls);
  const { seen, hooks } = recordingHooks();
  const reply = Buffer.from('Fri Nov 27 14:56:57 2026\r\n');
  waitToWrite(calls, hooks, fd, reply);
  await sleep(200);
  assert.equal(seen.served, 0, 'nothing to send while the client does not read');
  assert.equal(seen.pending.length, 1, 'handed to the service for its write timeout');
  let received = 0;
  let tail = Buffer.alloc(0);
  client.on('data', (chunk: Buffer) => {
    received += chunk.length;
    tail = Buffer.concat([tail, chunk]).subarray(-reply.length);
  });
  client.resume();
  await once(client, 'end');
  assert.equal(received, filled + reply.length);
  assert.deepEqual(tail, reply);
  assert.deepEqual(seen, { served: 1, closed: 1, errors: [], pending: seen.pending, released: 1 });
  assert.equal(isOpen(fd), false, 'the descriptor is closed');
  client.destroy();
});

test('a client that never reads: the write timeout closes the descriptor, once', async (t) => {
  if (!calls) return t.skip(skip);
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
  );
  client.destroy();
});
