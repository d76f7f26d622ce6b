import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { udpPaths } from '../../src/udp/choose.ts';
import { type DropReason, ReplyLimiter } from '../../src/udp/rate-limit.ts';
import type { DatagramHooks, UdpChoice } from '../../src/udp/types.ts';
import { TESTED_UDP_PATHS } from '../helpers/accept.ts';

// A path driven directly, with a limiter of the test's own (the server's table holds 65,536 sources).
async function takeSocket(udpIo: UdpChoice, limiter: ReplyLimiter) {
  const [path] = await udpPaths(udpIo);
  const counts = { received: 0, served: 0, dropped: {} as Partial<Record<DropReason, number>> };
  const hooks: DatagramHooks = {
    reply: () => Buffer.from('reply\r\n'),
    limiter,
    received: (n) => {
      counts.received += n;
    },
    dropped: (reason, n) => {
      counts.dropped[reason] = (counts.dropped[reason] ?? 0) + n;
    },
    served: (n) => {
      counts.served += n;
    },
    error: (code) => assert.fail(`unexpected ${code}`),
  };
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  const reader = path?.take(socket, hooks);
  assert.equal(reader?.path, udpIo);
  return { reader, port, counts };
}

async function client(address: string) {
  const socket = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  socket.bind(0, address);
  await once(socket, 'listening');
  return { socket, replies };
}

for (const udpIo of TESTED_UDP_PATHS) {
  test(`${udpIo} path: the source table is bounded, and the sweep makes room again`, async () => {
    // The last sweep 9.5 s ago: the next one is due in half a second.
    const limiter = new ReplyLimiter({ perSource: 1000, global: 1e9, maxSources: 4 }, Date.now() - 9500);
    const { reader, port, counts } = await takeSocket(udpIo, limiter);
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => client(`127.0.2.${i + 1}`)));
    for (const { socket } of clients) {
      socket.send(Buffer.alloc(0), port, '127.0.0.1');
      await sleep(20); // one at a time: the first four take the table
    }
    for (let i = 0; i < 100 && counts.received < 6; i++) await sleep(20);
    assert.equal(counts.served, 4);
    assert.deepEqual(counts.dropped, { source_table_full: 2 });
    assert.equal(limiter.trackedSources, 4);
    // Past the sweep, the idle sources (full buckets) are forgotten and the sixth one fits.
    await sleep(800);
    clients[5]?.socket.send(Buffer.alloc(0), port, '127.0.0.1');
    for (let i = 0; i < 100 && counts.received < 7; i++) await sleep(20);
    await sleep(100);
    await reader?.drain(Date.now() + 1000);
    for (const { socket } of clients) socket.close();
    assert.equal(counts.served, 5);
    assert.equal(limiter.trackedSources, 1);
    assert.deepEqual(
      clients.map((c) => c.replies.length),
      [1, 1, 1, 1, 0, 1],
    );
  });
}
