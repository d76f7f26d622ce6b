import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDaytimeServer, decodeTime } from '../../src/index.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';

async function udpClient(address = '127.0.0.1') {
  const socket = dgram.createSocket('udp4');
  const replies: Buffer[] = [];
  socket.on('message', (message) => replies.push(message));
  socket.bind(0, address);
  await once(socket, 'listening');
  return { socket, replies };
}

async function startUdpServer(options: { udpRate?: number; udpGlobalRate?: number } = {}) {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0, timePort: 0, udp: true, ...options });
  const listeners = await server.listen();
  const port = (service: string, transport: string) =>
    listeners.find((l) => l.service === service && l.transport === transport)?.port ?? 0;
  return { server, port };
}

test('UDP shares the TCP port numbers and answers every datagram, the empty one included, once', async () => {
  const { server, port } = await startUdpServer();
  assert.equal(port('daytime', 'udp'), port('daytime', 'tcp'));
  assert.equal(port('time', 'udp'), port('time', 'tcp'));
  const { socket, replies } = await udpClient();
  socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
  socket.send('any text at all', port('daytime', 'udp'), '127.0.0.1');
  socket.send(Buffer.alloc(0), port('time', 'udp'), '127.0.0.1');
  for (let i = 0; i < 200 && replies.length < 3; i++) await sleep(25);
  await sleep(200); // a fourth reply would be a bug
  socket.close();
  await server.close();
  assert.equal(replies.length, 3);
  const lines = replies.filter((r) => r.length !== 4);
  const times = replies.filter((r) => r.length === 4);
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line.toString('latin1'), CTIME_LINE);
  assert.ok(Math.abs(decodeTime(times[0] ?? Buffer.alloc(4)) - Date.now()) < 2000);
  assert.equal(server.stats().servedBy['daytime/udp'], 2);
});

test('one source flooding is answered at its rate only; the rest is counted as dropped', async () => {
  const { server, port } = await startUdpServer({ udpRate: 5 });
  const { socket, replies } = await udpClient();
  for (let i = 0; i < 200; i++) socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
  for (let i = 0; i < 100 && server.stats().udpReceived < 200; i++) await sleep(20);
  await sleep(200);
  socket.close();
  await server.close();
  const stats = server.stats();
  // A burst of 10 plus 5 a second for however long the sending took.
  assert.ok(replies.length >= 10 && replies.length <= 30, `replies ${replies.length}`);
  assert.equal(stats.udpReceived, 200);
  assert.equal(stats.udpDropped.source_rate, 200 - replies.length);
});

test('many sources are capped by the global limit', async () => {
  const { server, port } = await startUdpServer({ udpRate: 1000, udpGlobalRate: 20 });
  // Ten loopback addresses stand in for ten hosts.
  const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => udpClient(`127.0.0.${i + 2}`)));
  for (let round = 0; round < 20; round++) {
    for (const { socket } of clients) socket.send(Buffer.alloc(0), port('daytime', 'udp'), '127.0.0.1');
  }
  for (let i = 0; i < 100 && server.stats().udpReceived < 200; i++) await sleep(20);
  await sleep(200);
  const answered = clients.reduce((n, c) => n + c.replies.length, 0);
  for (const { socket } of clients) socket.close();
  await server.close();
  assert.ok(answered >= 20 && answered <= 40, `answered ${answered}`);
  assert.equal(server.stats().udpDropped.global_rate, 200 - answered);
});
