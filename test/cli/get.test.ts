import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { runCli } from '../helpers/cli.ts';
import { listenPort } from '../helpers/raw-client.ts';

describe('daytime get, spawned with npx', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  let port: number;
  before(async () => {
    port = await listenPort(server);
  });
  after(() => server.close());

  test('prints the line and exits 0', async () => {
    const { code, stdout, stderr } = await runCli(['get', `127.0.0.1:${port}`]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
  });

  test('--json prints line, receivedAt, rttMs and peer', async () => {
    const { code, stdout } = await runCli(['get', `127.0.0.1:${port}`, '--json']);
    assert.equal(code, 0);
    const reply = JSON.parse(stdout);
    assert.deepEqual(Object.keys(reply).sort(), ['line', 'peer', 'receivedAt', 'rttMs']);
    assert.equal(reply.peer, `127.0.0.1:${port}`);
    assert.equal(typeof reply.rttMs, 'number');
  });
});

test('refused and timed-out queries print one line and exit 1', async () => {
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as net.AddressInfo).port;
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));

  const [timedOut, refused] = await Promise.all([
    runCli(['get', `127.0.0.1:${silentPort}`, '--timeout', '0.5']),
    runCli(['get', `127.0.0.1:${closedPort}`]),
  ]);
  silent.close();
  for (const [result, pattern] of [
    [timedOut, /no complete reply from 127\.0\.0\.1:\d+ within 0\.5 s/],
    [refused, /ECONNREFUSED/],
  ] as const) {
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.match(result.stderr, pattern);
  }
});
