import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDaytimeServer, type DaytimeServer } from '../../src/index.ts';
import { encodeProxyV1, encodeProxyV2 } from '../../src/protocol/proxy.ts';
import { CTIME_LINE, listenPort } from '../helpers/raw-client.ts';

// Connects, sends `chunks` one by one (a pause between them), and returns what came back and whether
// the connection was closed without a reply.
async function exchange(port: number, chunks: Buffer[], pauseMs = 0): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    if (pauseMs) await sleep(pauseMs);
  }
  await closed;
  return Buffer.concat(received).toString('latin1');
}

const logged: Record<string, unknown>[] = [];
const record = (fields: unknown, msg?: string) => {
  logged.push({ ...(typeof fields === 'object' ? fields : {}), msg: msg ?? fields });
};
const logger = { info: record, warn: record, error: record, debug: record };
const client = { address: '198.51.100.7', port: 40001 };
const balancer = { address: '127.0.0.1', port: 0 };

describe('--proxy-protocol', () => {
  let server: DaytimeServer;
  let port: number;
  before(async () => {
    server = createDaytimeServer({
      host: '127.0.0.1',
      port: 0,
      proxyProtocol: true,
      proxyTimeout: 0.5,
      logger,
    });
    port = await listenPort(server);
    balancer.port = port;
  });
  after(() => server.close());

  test('the proxy path takes the connections, and says so', () => {
    assert.equal(server.listeners()[0]?.acceptPath, 'proxy');
    assert.equal(logged.find((l) => /listening on/.test(String(l.msg)))?.acceptPath, 'proxy');
  });

  test('v1, v2 over IPv4 and IPv6: the reply, and the log line names the client, not the balancer', async () => {
    const v6 = { address: '2001:db8::7', port: 40002 };
    for (const [header, peer] of [
      [encodeProxyV1(client, balancer), `${client.address}:${client.port}`],
      [encodeProxyV2(client, balancer), `${client.address}:${client.port}`],
      [encodeProxyV2(v6, { address: '2001:db8::1', port: 13 }), `[${v6.address}]:${v6.port}`],
    ] as const) {
      const before = logged.length;
      assert.match(await exchange(port, [header]), CTIME_LINE);
      const line = logged.slice(before).find((l) => String(l.msg).startsWith('Got a connection'));
      assert.equal(line?.peer, peer);
      assert.match(String(line?.via), /^127\.0\.0\.1:\d+$/);
    }
  });

  test("v2 LOCAL (HAProxy's health check) and v1 UNKNOWN are answered as direct connections", async () => {
    for (const header of [encodeProxyV2(), Buffer.from('PROXY UNKNOWN\r\n')]) {
      const before = logged.length;
      assert.match(await exchange(port, [header]), CTIME_LINE);
      const line = logged.slice(before).find((l) => String(l.msg).startsWith('Got a connection'));
      assert.match(String(line?.peer), /^127\.0\.0\.1:\d+$/);
      assert.equal(line?.via, undefined);
    }
    assert.equal(server.stats().proxyHeaders['v2/LOCAL'], 1);
    assert.equal(server.stats().proxyHeaders['v1/LOCAL'], 1);
  });

  test('nothing is sent before the header is complete, even a byte at a time', async () => {
    const header = encodeProxyV2(client, balancer);
    const reply = await exchange(
      port,
      [...header].map((b) => Buffer.from([b])),
      5,
    );
    assert.match(reply, CTIME_LINE);
    // Half a header, then silence: no reply at all, closed at the timeout.
    const started = Date.now();
    assert.equal(await exchange(port, [header.subarray(0, 10)]), '');
    assert.ok(Date.now() - started >= 400, 'held until --proxy-timeout');
  });

  test('missing, malformed and late headers: closed without a reply, counted by reason', async () => {
    const before = server.stats().proxyRefused;
    assert.equal(await exchange(port, [Buffer.from('hello\r\n')]), '');
    assert.equal(await exchange(port, [Buffer.from('PROXY TCP4 1.2.3.4 nonsense\r\n')]), '');
    assert.equal(await exchange(port, []), '');
    const refused = server.stats().proxyRefused;
    assert.equal((refused.missing ?? 0) - (before.missing ?? 0), 1);
    assert.equal((refused.malformed ?? 0) - (before.malformed ?? 0), 1);
    assert.ok((refused.timeout ?? 0) - (before.timeout ?? 0) >= 1);
  });
});

test('--proxy-protocol with an accept path named: bad input, before any socket', () => {
  assert.throws(() => createDaytimeServer({ proxyProtocol: true, accept: 'libc' }), {
    code: 'ERR_INVALID_OPTION',
    message: /proxy/,
  });
  assert.throws(() => createDaytimeServer({ proxyProtocol: true, proxyTimeout: '0' }), {
    code: 'ERR_INVALID_OPTION',
  });
});
