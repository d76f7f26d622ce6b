import assert from 'node:assert/strict';
import { once } from 'node:events';
import { fstatSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SocketCalls } from '../../src/kernel/socket-calls.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';

const { EAGAIN } = constants.errno;

// A daytime line always fits the empty send buffer of a new connection, so a server cannot be made to
// meet a write that does not complete from outside. This is a real connection whose send buffer was
// filled first (the kernel said EAGAIN), behind a client that does not read until told to.
export async function fullConnection(calls: SocketCalls) {
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

// The hooks a path hands a waiting write to, recording what it is told.
export function recordingHooks() {
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

export const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

// The client reads everything: what filled the buffer, then the reply, whole, then EOF.
export async function readsFillerThenReply(client: net.Socket, filled: number, reply: Buffer): Promise<void> {
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
}
