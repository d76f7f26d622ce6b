import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { queryDaytime } from '../../src/index.ts';
import { TESTED_UDP_PATHS } from '../helpers/accept.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';
import { rawUdpUnavailable, sendFromPortZero } from '../helpers/raw-udp.ts';
import { repliesOnceStopped } from '../helpers/udp-replies.ts';

const LINE_BYTES = 26;

const serveUdp = (udpIo: string, args: string[] = []) =>
  startCliServer(['--host', '127.0.0.1', '--port', '0', '--udp', '--udp-io', udpIo, '--quiet', ...args]);

type UdpStats = { udpReceived: number; udpDropped: Record<string, number> };
const closedStats = (logs: Record<string, unknown>[]) =>
  (logs.find((l) => l.stats) as { stats: UdpStats }).stats;

async function client(address = '127.0.0.1') {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  socket.bind(0, address);
  await once(socket, 'listening');
  return { socket, replies };
}

// Sends as fast as the socket takes them, in batches, and returns the seconds it took.
async function flood(socket: dgram.Socket, port: number, count: number, payload = Buffer.alloc(0)) {
  const started = performance.now();
  for (let sent = 0; sent < count; ) {
    const batch = Math.min(500, count - sent);
    await Promise.all(
      Array.from(
        { length: batch },
        () => new Promise((resolve) => socket.send(payload, port, '127.0.0.1', resolve)),
      ),
    );
    sent += batch;
  }
  return (performance.now() - started) / 1000;
}

for (const udpIo of TESTED_UDP_PATHS) {
  test(`--udp-io ${udpIo}: 100,000 datagrams from one source are answered at the configured rate only`, async () => {
    const rate = 100;
    const server = await serveUdp(udpIo, ['--udp-rate', String(rate)]);
    const sender = await client();
    const started = performance.now();
    await flood(sender.socket, server.port, 100_000);
    // Stopped, the server answers what its buffer still holds and says what it counted.
    const { code } = await server.stop();
    const seconds = (performance.now() - started) / 1000;
    assert.equal(code, 0);
    const stats = closedStats(server.logs);
    const answered = stats.udpReceived - (stats.udpDropped.source_rate ?? 0);
    const got = await repliesOnceStopped([sender], answered);
    sender.socket.close();
    // A burst of twice the rate, then the rate, for as long as the server ran.
    const allowed = 2 * rate + Math.ceil(rate * seconds);
    assert.ok(answered > 0 && answered <= allowed, `${answered} replies, at most ${allowed}`);
    const bytes = sender.replies.reduce((n, r) => n + r.length, 0);
    assert.ok(bytes <= allowed * LINE_BYTES, `${bytes} reply bytes, at most ${allowed * LINE_BYTES}`);
    // Every datagram not counted as dropped reached the client (or its own full buffer), none more.
    assert.deepEqual(got, { read: got.read, dropped: answered - got.read, queued: 0 });
  });

  test(`--udp-io ${udpIo}: many sources are capped by the global limit`, async () => {
    const globalRate = 50;
    const server = await serveUdp(udpIo, ['--udp-rate', '1000', '--udp-global-rate', String(globalRate)]);
    // Fifty loopback addresses stand in for fifty hosts.
    const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => client(`127.0.1.${i + 1}`)));
    const started = performance.now();
    await Promise.all(clients.map(({ socket }) => flood(socket, server.port, 400)));
    await server.stop();
    const seconds = (performance.now() - started) / 1000;
    const stats = closedStats(server.logs);
    const answered = stats.udpReceived - (stats.udpDropped.global_rate ?? 0);
    const got = await repliesOnceStopped(clients, answered);
    for (const { socket } of clients) socket.close();
    assert.equal(got.read + got.dropped, answered);
    const allowed = globalRate + Math.ceil(globalRate * seconds);
    assert.ok(
      answered > 0 && answered <= allowed,
      `${answered} replies to 20,000 datagrams, at most ${allowed}`,
    );
  });

  test(`--udp-io ${udpIo}: zero-length and 65,507-byte datagrams each get one reply`, async () => {
    const server = await serveUdp(udpIo);
    const { socket, replies } = await client();
    await flood(socket, server.port, 1, Buffer.alloc(0));
    await flood(socket, server.port, 1, Buffer.alloc(65_507, 0x41));
    await waitFor(
      () => replies.length,
      (n) => n >= 2,
      'two replies',
    );
    await server.stop();
    // Stopped: a third reply would still be queued for the client.
    assert.deepEqual(await repliesOnceStopped([{ socket, replies }], 2), { read: 2, dropped: 0, queued: 0 });
    socket.close();
    for (const r of replies) assert.match(r.toString('latin1'), CTIME_LINE);
  });

  test(`--udp-io ${udpIo}: a forged datagram from source port 0 is counted (EINVAL), and the server carries on`, async (t) => {
    const why = rawUdpUnavailable();
    if (why) return missingPeer(t, why);
    const server = await serveUdp(udpIo);
    await sendFromPortZero(server.port);
    // Node's dgram.send throws on port 0: unguarded, that one datagram ended the process.
    const reply = await queryDaytime({ host: '127.0.0.1', port: server.port, transport: 'udp', timeout: 10 });
    assert.match(`${reply.line}\r\n`, CTIME_LINE);
    const { code } = await server.stop();
    assert.equal(code, 0);
    const stats = (
      server.logs.find((l) => l.stats) as { stats: { udpReceived: number; errors: Record<string, number> } }
    ).stats;
    assert.equal(stats.udpReceived, 2);
    assert.deepEqual(stats.errors, { EINVAL: 1 });
  });
}
