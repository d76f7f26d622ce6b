import type dgram from 'node:dgram';
import { readProcNet } from '../../src/kernel/proc-net.ts';
import { waitFor } from './proc.ts';

// A client's replies once the server has stopped: every reply it sent is then in the client's receive
// buffer, already read, or dropped by the client's own kernel (its buffer full on a busy machine). So
// instead of a fixed pause for replies "still in flight": waits until the replies read and the drops
// /proc/net/udp counts for this socket come to `expected` (what the server says it answered). `queued`
// is what the kernel still holds for it after that: a reply more than the server counted.
export async function repliesOnceStopped(
  clients: { socket: dgram.Socket; replies: unknown[] }[],
  expected: number,
) {
  const rows = () => {
    const table = readProcNet('udp') ?? [];
    return clients.map(({ socket }) => {
      const { address, port } = socket.address();
      return table.find((r) => r.port === port && r.local === address);
    });
  };
  const read = () => clients.reduce((n, c) => n + c.replies.length, 0);
  const dropped = () => rows().reduce((n, r) => n + (r?.drops ?? 0), 0);
  await waitFor(
    () => read() + dropped(),
    (n) => n >= expected,
    `${expected} replies read or dropped by the client`,
  );
  return { read: read(), dropped: dropped(), queued: rows().reduce((n, r) => n + (r?.rxQueue ?? 0), 0) };
}
