import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { makeNetns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { TESTED_ACCEPT_PATHS } from '../helpers/accept.ts';
import { ROOT } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';

// A reply that the kernel will not take. With net.ipv4.tcp_notsent_lowat = 0 (per network namespace),
// a TCP socket never has room for unsent data (tcp_stream_memory_free() compares 0 < 0), so every write
// returns EAGAIN and stays pending: what a server sees when its replies cannot leave. Here that makes
// the connections that --max-connections and --write-timeout are about, on every accept path.
const unavailable = netnsUnavailable('ip netns');
const NODE = `${ROOT}node_modules/.bin/node`;
let ns: ReturnType<typeof makeNetns> | undefined;
before(() => {
  if (!unavailable) ns = makeNetns('w', { 'net.ipv4.tcp_notsent_lowat': '0' });
});
after(() => ns?.remove());

interface ClosedStats {
  connections: number;
  served: number;
  rejected: number;
  errors: Record<string, number>;
}

async function run(accept: string, flags: string[], clients: number) {
  if (!ns) throw new Error('no namespace');
  const server = await startCliServer(
    ['--host', '127.0.0.1', '--port', '0', '--quiet', '--accept', accept, ...flags],
    undefined,
    ns.exec([NODE, `${ROOT}dist/cli.js`]),
  );
  const out = execFileSync(
    'ip',
    [
      'netns',
      'exec',
      ns.name,
      NODE,
      `${ROOT}test/helpers/netns-client.ts`,
      String(server.port),
      String(clients),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const { code } = await server.stop();
  const closed = server.logs.find((l) => l.stats) as { stats: ClosedStats } | undefined;
  return { code, stats: closed?.stats, results: JSON.parse(out) as { bytes: number; end: string }[] };
}

for (const accept of TESTED_ACCEPT_PATHS) {
  test(`--accept ${accept}: --write-timeout closes a connection whose reply cannot be sent, counted ETIMEDOUT`, async (t) => {
    if (unavailable) return missingPeer(t, unavailable);
    const { code, stats, results } = await run(accept, ['--write-timeout', '1'], 10);
    assert.equal(code, 0);
    assert.deepEqual(
      results.map((r) => r.bytes),
      Array(10).fill(0),
      'no client got a line',
    );
    assert.deepEqual(
      results.map((r) => r.end),
      Array(10).fill('eof'),
      'each was closed by the server',
    );
    assert.equal(stats?.connections, 10);
    assert.equal(stats?.served, 0);
    assert.deepEqual(stats?.errors, { ETIMEDOUT: 10 });
  });

  test(`--accept ${accept}: --max-connections: over the limit, new connections are closed at once and counted`, async (t) => {
    if (unavailable) return missingPeer(t, unavailable);
    // Five connections wait for their write (until the 2 s write timeout); the other fifteen are over
    // the limit meanwhile.
    const { stats, results } = await run(accept, ['--max-connections', '5', '--write-timeout', '2'], 20);
    assert.equal(stats?.connections, 20);
    assert.equal(stats?.rejected, 15);
    assert.equal(stats?.served, 0);
    assert.deepEqual(stats?.errors, { ETIMEDOUT: 5 });
    assert.equal(results.filter((r) => r.bytes === 0).length, 20);
  });
}
