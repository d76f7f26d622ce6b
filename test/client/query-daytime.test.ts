import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer, parseTarget, queryDaytime } from '../../src/index.ts';
import { listenPort } from '../helpers/raw-client.ts';

// Misbehaving servers on port 0, each doing one wrong thing to every connection.
function misbehavingServer(
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    }),
  );
}

describe('queryDaytime against our server', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  let port: number;
  before(async () => {
    port = await listenPort(server);
  });
  after(() => server.close());

  test('returns the line without CRLF, the peer, a receive time and a round-trip time', async () => {
    const reply = await queryDaytime({ host: '127.0.0.1', port });
    assert.match(reply.line, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    assert.equal(reply.peer, `127.0.0.1:${port}`);
    assert.ok(reply.rttMs > 0);
    assert.ok(Math.abs(Date.parse(reply.receivedAt) - Date.now()) < 60_000);
  });

  test('an already aborted signal rejects without connecting', async () => {
    const before = server.stats().connections;
    await assert.rejects(queryDaytime({ host: '127.0.0.1', port, signal: AbortSignal.abort() }), {
      code: 'ABORT_ERR',
    });
    assert.equal(server.stats().connections, before);
  });
});

describe('queryDaytime fails with a clear code', () => {
  const cases: [string, (s: net.Socket) => void, string][] = [
    ['a server that closes without a word', (s) => s.end(), 'ERR_EMPTY_REPLY'],
    ['a server that sends no CRLF', (s) => s.end('Tue Nov 24 10:00:00 2026'), 'ERR_NO_CRLF'],
    ['a server that closes mid-line', (s) => s.end('Tue Nov 24 10:0'), 'ERR_NO_CRLF'],
    ['a server that sends two lines', (s) => s.end('one\r\ntwo\r\n'), 'ERR_BAD_REPLY'],
    ['a server that sends 1 MiB', (s) => s.end(Buffer.alloc(1 << 20, 65)), 'ERR_REPLY_TOO_LONG'],
    ['a server that resets', (s) => s.resetAndDestroy(), 'ECONNRESET'],
    ['a server that hangs', () => {}, 'ETIMEDOUT'],
  ];
  for (const [name, behaviour, code] of cases) {
    test(name, async () => {
      const server = await misbehavingServer(behaviour);
      await assert.rejects(queryDaytime({ host: '127.0.0.1', port: server.port, timeout: '0.5' }), { code });
      server.close();
    });
  }

  test('a refused connection', async () => {
    const server = await misbehavingServer(() => {});
    server.close();
    await assert.rejects(queryDaytime({ host: '127.0.0.1', port: server.port }), { code: 'ECONNREFUSED' });
  });

  test('bad options, before any socket', async () => {
    await assert.rejects(queryDaytime({ port: 0 }), { code: 'ERR_INVALID_OPTION' });
    await assert.rejects(queryDaytime({ timeout: '-1' }), { code: 'ERR_INVALID_OPTION' });
    await assert.rejects(queryDaytime({ timeout: 'soon' }), { code: 'ERR_INVALID_OPTION' });
    await assert.rejects(queryDaytime({ transport: 'sctp' }), { code: 'ERR_INVALID_OPTION' });
  });
});

test('targets parse as HOST, HOST:PORT, :PORT and [IPV6]:PORT', () => {
  const d = { host: 'localhost', port: 9999 };
  assert.deepEqual(parseTarget(undefined, d), d);
  assert.deepEqual(parseTarget('example.org', d), { host: 'example.org', port: 9999 });
  assert.deepEqual(parseTarget('127.0.0.1:13', d), { host: '127.0.0.1', port: 13 });
  assert.deepEqual(parseTarget(':13', d), { host: 'localhost', port: 13 });
  assert.deepEqual(parseTarget('[::1]:13', d), { host: '::1', port: 13 });
  assert.deepEqual(parseTarget('[::1]', d), { host: '::1', port: 9999 });
  assert.deepEqual(parseTarget('::1', d), { host: '::1', port: 9999 });
  assert.throws(() => parseTarget('host:0', d), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => parseTarget('host:no-such-service', d), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => parseTarget('[::1', d), { code: 'ERR_INVALID_OPTION' });
});
