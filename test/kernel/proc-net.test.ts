import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { readProcNet } from '../../src/kernel/proc-net.ts';

// /proc/net's hex words (host order) read back as the addresses the listeners were given, as ss shows
// them.
test('listeners in /proc/net/tcp and tcp6 carry the addresses they were bound to', {
  skip: !existsSync('/proc/net/tcp6') && 'needs /proc/net/tcp and tcp6',
}, async () => {
  const servers: net.Server[] = [];
  try {
    for (const host of ['127.0.0.1', '::1', '::', '::ffff:127.0.0.1']) {
      const server = net.createServer();
      servers.push(server);
      server.listen({ host, port: 0, ipv6Only: host === '::' });
      await once(server, 'listening');
      const { port } = server.address() as net.AddressInfo;
      const rows = readProcNet('tcp')?.filter((row) => row.port === port && row.state === '0A');
      assert.deepEqual(
        rows?.map((row) => [row.local, row.family]),
        [[host, host.includes(':') ? 6 : 4]],
        host,
      );
    }
  } finally {
    for (const server of servers) server.close();
  }
});
