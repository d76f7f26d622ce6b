import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { runCli } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort, freeUdpPort } from '../helpers/ports.ts';
import { listenPort } from '../helpers/raw-client.ts';

describe('daytime get against a server', () => {
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
  const closedPort = await freePort();

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

describe('daytime get: what a newcomer gets wrong, answered in one line', () => {
  const logged: Record<string, unknown>[] = [];
  const logger = {
    info: (fields: object, msg?: string) => logged.push({ ...fields, msg }),
    warn: () => {},
    error: () => {},
    debug: () => {},
  };
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0, timePort: 0 });
  const behindBalancer = createDaytimeServer({
    host: '127.0.0.1',
    port: 0,
    proxyProtocol: true,
    proxyFrom: '127.0.0.1',
    proxyTimeout: 0.5,
    logger,
  });
  let daytime = 0;
  let time = 0;
  let proxied = 0;
  before(async () => {
    const listeners = await server.listen();
    daytime = listeners[0]?.port ?? 0;
    time = listeners[1]?.port ?? 0;
    proxied = await listenPort(behindBalancer);
  });
  after(() => Promise.all([server.close(), behindBalancer.close()]));

  test('a time port asked for daytime suggests --time; a daytime port asked with --time, leaving it out', async () => {
    const [daytimeOnTime, timeOnDaytime] = await Promise.all([
      runCli(['get', `127.0.0.1:${time}`]),
      runCli(['get', '--time', `127.0.0.1:${daytime}`]),
    ]);
    for (const [result, pattern] of [
      [daytimeOnTime, /does not end in CRLF \(4 bytes without a line is an RFC 868 time reply.*Try --time\)/],
      [timeOnDaytime, /a daytime server\? Leave out --time/],
    ] as const) {
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, pattern);
    }
  });

  // --timeout 600: without a connected socket the ICMP error is never seen and this waits 600 s.
  test('UDP to a closed port fails at once with ECONNREFUSED, not at the timeout', {
    timeout: 60_000,
  }, async () => {
    const closed = await freeUdpPort();
    const result = await runCli(['get', '--udp', '--timeout', '600', `127.0.0.1:${closed}`]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.match(result.stderr, /ECONNREFUSED \(nothing listens on that UDP port\)/);
  });

  test('--proxy v1|v2 sends the header a server behind a balancer requires', async () => {
    const plain = await runCli(['get', `127.0.0.1:${proxied}`, '--timeout', '10']);
    assert.equal(plain.code, 1, 'without the header the server closes without a reply');
    const results = await Promise.all(
      ['v1', 'v2'].map((v) => runCli(['get', `127.0.0.1:${proxied}`, '--proxy', v, '--json'])),
    );
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(JSON.parse(result.stdout).line, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    }
    assert.deepEqual(behindBalancer.stats().proxyHeaders, { 'v1/PROXY': 1, 'v2/PROXY': 1 });
    const peers = logged.filter((l) => String(l.msg).startsWith('Got a connection from')).map((l) => l.via);
    assert.equal(peers.length, 2, 'both logged as relayed connections');
  });
});

test('ports by service name from /etc/services: get 127.0.0.1:daytime is port 13', async (t) => {
  if (!/^daytime\s+13\/tcp/m.test(readServices()))
    return missingPeer(t, '/etc/services has no daytime entry (apt-get install netbase)');
  const result = await runCli(['get', '127.0.0.1:daytime', '--json', '--timeout', '2']);
  // Whether or not something answers on 13 here, the port asked for was 13.
  if (result.code === 0) assert.equal(JSON.parse(result.stdout).peer, '127.0.0.1:13');
  else assert.match(result.stderr, /127\.0\.0\.1:13\b/);
});

function readServices(): string {
  try {
    return readFileSync('/etc/services', 'latin1');
  } catch {
    return '';
  }
}
