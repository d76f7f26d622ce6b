import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer, queryDaytime, queryTime } from '../../src/index.ts';
import { freeUdpPort } from '../helpers/ports.ts';

describe('queryTime and UDP queries against our server', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0, timePort: 0, udp: true });
  let daytimePort = 0;
  let timePort = 0;
  before(async () => {
    const listeners = await server.listen();
    daytimePort = listeners.find((l) => l.service === 'daytime')?.port ?? 0;
    timePort = listeners.find((l) => l.service === 'time')?.port ?? 0;
  });
  after(() => server.close());

  for (const transport of ['tcp', 'udp']) {
    test(`RFC 868 over ${transport}: the decoded time is within 2 s of the local clock`, async () => {
      const reply = await queryTime({ host: '127.0.0.1', port: timePort, transport });
      assert.ok(Math.abs(reply.offsetMs) < 2000, `offset ${reply.offsetMs}`);
      assert.ok(Math.abs(Date.parse(reply.time) - Date.now()) < 2000);
      assert.match(reply.raw, /^[0-9a-f]{8}$/);
      assert.equal(reply.peer, `127.0.0.1:${timePort}`);
    });
  }

  test('daytime over UDP', async () => {
    const reply = await queryDaytime({ host: '127.0.0.1', port: daytimePort, transport: 'udp' });
    assert.match(reply.line, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  });

  test('a time query against the daytime port is refused as too long', async () => {
    await assert.rejects(queryTime({ host: '127.0.0.1', port: daytimePort }), { code: 'ERR_REPLY_TOO_LONG' });
  });

  test('UDP: a closed port fails at once (ECONNREFUSED); a server that never answers times out', async () => {
    // timeout 600: without a connected socket the refusal is never seen and this waits ten minutes.
    const closed = await freeUdpPort();
    await assert.rejects(queryDaytime({ host: '127.0.0.1', port: closed, transport: 'udp', timeout: 600 }), {
      code: 'ECONNREFUSED',
    });
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const { port } = silent.address();
    await assert.rejects(queryDaytime({ host: '127.0.0.1', port, transport: 'udp', timeout: 0.3 }), {
      code: 'ETIMEDOUT',
    });
    silent.close();
  });
});
