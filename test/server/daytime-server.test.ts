import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer, type DaytimeServer } from '../../src/index.ts';
import { TESTED_ACCEPT_PATHS } from '../helpers/accept.ts';
import { CTIME_LINE, listenPort, rawQuery } from '../helpers/raw-client.ts';

for (const accept of TESTED_ACCEPT_PATHS)
  describe(`daytime server on 127.0.0.1, port 0, --accept ${accept}`, () => {
    let server: DaytimeServer;
    let port: number;
    before(async () => {
      // The default backlog (511). With 64, a burst of 200 connects fills the SYN queue, the kernel answers
      // with SYN cookies, and a client whose cookie ACK meets a full accept queue believes it is connected
      // while the server holds nothing: a daytime client, which never speaks first, then waits forever.
      server = createDaytimeServer({ host: '127.0.0.1', port: 0, accept });
      port = await listenPort(server);
    });
    after(() => server.close());

    test('the listener and the stats name the path', () => {
      assert.equal(server.listeners()[0]?.acceptPath, accept);
      assert.deepEqual(server.stats().acceptPaths, { [accept]: 1 });
    });

    test('a raw client receives exactly one CRLF-terminated ctime line, then EOF', async () => {
      // Resolved: the server closed its side (EOF), not a reset.
      const reply = await rawQuery(port);
      assert.match(reply.data.toString('latin1'), CTIME_LINE);
      assert.equal(reply.data.length, 26);
    });

    test('1,000 sequential connections are each served a full line', async () => {
      const before = server.stats().served;
      for (let i = 0; i < 1000; i++) {
        const reply = await rawQuery(port);
        assert.match(reply.data.toString('latin1'), CTIME_LINE, `connection ${i}`);
      }
      assert.equal(server.stats().served - before, 1000);
    });

    test('200 concurrent connections are each served a full line', async () => {
      const replies = await Promise.all(Array.from({ length: 200 }, () => rawQuery(port)));
      for (const reply of replies) assert.match(reply.data.toString('latin1'), CTIME_LINE);
    });

    test('a client that sends data first still gets its full line', async () => {
      // The server reads nothing; closing with the client's data unread sends a reset after the line,
      // and Linux delivers the line first.
      const data = await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('hello\r\n'.repeat(1000)));
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.on('error', () => {});
      });
      assert.match(data.toString('latin1'), CTIME_LINE);
    });
  });

test('the iso and rfc2822 formats are served as configured', async () => {
  for (const [format, pattern] of [
    ['iso', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\r\n$/],
    ['rfc2822', /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n$/],
  ] as const) {
    const server = createDaytimeServer({ host: '127.0.0.1', port: 0, format });
    const port = await listenPort(server);
    const reply = await rawQuery(port);
    await server.close();
    assert.match(reply.data.toString('latin1'), pattern);
  }
});

test('bad options are rejected with a code before any socket opens', () => {
  assert.throws(() => createDaytimeServer({ backlog: 0 }), { code: 'ERR_INVALID_OPTION', message: /511/ });
  assert.throws(() => createDaytimeServer({ backlog: 65536 }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createDaytimeServer({ port: '99999' }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createDaytimeServer({ format: 'xml' }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createDaytimeServer({ host: '' }), { code: 'ERR_INVALID_OPTION' });
  assert.throws(() => createDaytimeServer({ accept: 'fast' }), {
    code: 'ERR_INVALID_OPTION',
    message: /libc/,
  });
});

test('listening on a port in use fails with EADDRINUSE', async () => {
  const first = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  const port = await listenPort(first);
  const second = createDaytimeServer({ host: '127.0.0.1', port });
  await assert.rejects(second.listen(), { code: 'EADDRINUSE' });
  await first.close();
});
