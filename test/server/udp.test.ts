import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDaytimeServer, decodeTime } from '../../src/index.ts';
import { TESTED_UDP_PATHS } from '../helpers/accept.ts';
import { waitFor } from '../helpers/proc.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';
import { repliesOnceStopped } from '../helpers/udp-replies.ts';

async function udpClient(address = '127.0.0.1') {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  const replies: Buffer[] = [];
  socket.on('message', (message) => replies.push(message));
  socket.bind(0, address);
  await once(socket, 'listening');
  return { socket, replies };
}

async function startUdpServer(
  udpIo: string,
  options: { udpRate?: number; udpGlobalRate?: number; host?: string } = {},
) {
  const server = createDaytimeServer({
    host: '127.0.0.1',
    port: 0,
    timePort: 0,
    udp: true,
    udpIo,
    ...options,
  });
  const listeners = await server.listen();
  const port = (service: string, transport: string) =>
    listeners.find((l) => l.service === service && l.transport === transport)?.port ?? 0;
  return { server, port, listeners };
}

const received = (server: { stats(): { udpReceived: number } }, count: number) =>
  waitFor(
    () => server.stats().udpReceived,
    (n) => n >= count,
    `${count} datagrams received`,
  );

for (const udpIo of TESTED_UDP_PATHS) {
  test(`--udp-io ${udpIo}: UDP shares the TCP port numbers and answers every datagram, the empty one included, once`, async () => {
    const { server, port, listeners } = await startUdpServer(udpIo);
    assert.equal(port('daytime', 'udp'), port('daytime', 'tcp'));
    assert.equal(port('time', 'udp'), port('time', 'tcp'));
    for (const l of listeners.filter((l) => l.transport === 'udp')) assert.equal(l.udpPath, udpIo);
    const { socket, replies } = await udpClient();
    socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
    socket.send('any text at all', port('daytime', 'udp'), '127.0.0.1');
    socket.send(Buffer.alloc(0), port('time', 'udp'), '127.0.0.1');
    await received(server, 3);
    const answeredAt = Date.now();
    await server.close();
    // Every reply the server sent is here now; a fourth would still be queued for the client.
    assert.deepEqual(await repliesOnceStopped([{ socket, replies }], 3), { read: 3, dropped: 0, queued: 0 });
    socket.close();
    const lines = replies.filter((r) => r.length !== 4);
    const times = replies.filter((r) => r.length === 4);
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line.toString('latin1'), CTIME_LINE);
    assert.ok(Math.abs(decodeTime(times[0] ?? Buffer.alloc(4)) - answeredAt) < 2000);
    const stats = server.stats();
    assert.equal(stats.servedBy['daytime/udp'], 2);
    assert.equal(stats.servedBy['time/udp'], 1);
    assert.equal(stats.udpReceived, 3);
    assert.deepEqual(stats.udpPaths, { [udpIo]: 2 });
  });

  test(`--udp-io ${udpIo}: one source flooding is answered at its rate only; the rest is counted as dropped`, async () => {
    const { server, port } = await startUdpServer(udpIo, { udpRate: 5 });
    const { socket, replies } = await udpClient();
    for (let i = 0; i < 200; i++) socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
    await received(server, 200);
    await server.close();
    const stats = server.stats();
    const answered = 200 - (stats.udpDropped.source_rate ?? 0);
    // A burst of 10 plus 5 a second for however long the sending took.
    assert.ok(answered >= 10 && answered <= 30, `answered ${answered}`);
    assert.equal(stats.udpReceived, 200);
    // What the server did not count as dropped, the client got.
    const got = await repliesOnceStopped([{ socket, replies }], answered);
    socket.close();
    assert.deepEqual(got, { read: answered, dropped: 0, queued: 0 });
  });

  test(`--udp-io ${udpIo}: many sources are capped by the global limit`, async () => {
    const { server, port } = await startUdpServer(udpIo, { udpRate: 1000, udpGlobalRate: 20 });
    // Ten loopback addresses stand in for ten hosts.
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => udpClient(`127.0.0.${i + 2}`)));
    for (let round = 0; round < 20; round++) {
      for (const { socket } of clients) socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
    }
    await received(server, 200);
    await server.close();
    const answered = 200 - (server.stats().udpDropped.global_rate ?? 0);
    assert.ok(answered >= 20 && answered <= 40, `answered ${answered}`);
    const got = await repliesOnceStopped(clients, answered);
    for (const { socket } of clients) socket.close();
    assert.deepEqual(got, { read: answered, dropped: 0, queued: 0 });
  });

  test(`--udp-io ${udpIo}: IPv6 and IPv4-mapped sources on one dual-stack socket, each limited as its own source`, async () => {
    // No host: every interface, IPv6 with IPv4 mapped in; the limiter must tell ::1 from 127.0.0.1.
    const { server, port } = await startUdpServer(udpIo, { host: undefined, udpRate: 1 });
    const v4 = await udpClient('127.0.0.1');
    const v6 = await udpClient('::1');
    // Each source's burst is 2: five datagrams each, two replies each.
    for (let i = 0; i < 5; i++) {
      v4.socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
      v6.socket.send(Buffer.alloc(0), port('daytime', 'udp'), '::1');
    }
    await received(server, 10);
    await server.close();
    for (const client of [v4, v6])
      assert.deepEqual(await repliesOnceStopped([client], 2), { read: 2, dropped: 0, queued: 0 });
    v4.socket.close();
    v6.socket.close();
    for (const r of [...v4.replies, ...v6.replies]) assert.match(r.toString('latin1'), CTIME_LINE);
    assert.equal(server.stats().udpDropped.source_rate, 6);
  });

  test(`--udp-io ${udpIo}: close answers the datagrams already waiting in the receive buffer`, async () => {
    const { server, port } = await startUdpServer(udpIo, { udpRate: 1000 });
    const { socket, replies } = await udpClient();
    // Sent while the event loop is busy, so all of them wait in the kernel when close() begins.
    for (let i = 0; i < 50; i++) socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
    await sleep(0);
    const until = Date.now() + 50;
    while (Date.now() < until); // the loop blocked: nothing is read
    await server.close();
    await waitFor(
      () => replies.length,
      (n) => n >= 50,
      'the 50 replies',
    );
    socket.close();
    assert.equal(replies.length, 50);
    assert.equal(server.stats().udpReceived, 50);
  });
}
