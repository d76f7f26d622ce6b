import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readListenQueues } from '../../src/index.ts';
import { URING_UNAVAILABLE } from '../helpers/accept.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { scrape } from '../helpers/metrics.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { waitingClients } from '../helpers/raw-client.ts';

const tableSize = (pid: number) =>
  Number(/^FDSize:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

// The uring path's multishot accept takes a whole queue in one io_uring_enter; each doubling of the
// descriptor table on the way is an RCU grace period with the event loop stopped (55-60 ms for a
// first burst of 3,000 here). The server grows the table for its queues before it says it is ready.
test('--accept uring: the descriptor table holds the accept queue from the start, and a first burst of 2,000 does not grow it', async (t) => {
  if (URING_UNAVAILABLE) return missingPeer(t, URING_UNAVAILABLE);
  const metrics = await freePort();
  const server = await startQuietServer([
    '--accept',
    'uring',
    '--backlog',
    '4096',
    '--metrics',
    `127.0.0.1:${metrics}`,
  ]);
  const waiting = 2000;
  let burst: ReturnType<typeof waitingClients> | undefined;
  try {
    const before = tableSize(server.pid);
    assert.ok(before > 4096, `the table holds 4,097 queued connections: FDSize ${before}`);
    process.kill(server.pid, 'SIGSTOP');
    burst = waitingClients(server.port, waiting);
    for (let i = 0; i < 400 && ((await readListenQueues(server.port))?.[0]?.queued ?? 0) < waiting; i++)
      await sleep(25);
    process.kill(server.pid, 'SIGCONT');
    // A scrape answers while they are served.
    assert.match(await scrape(metrics), /^daytime_connections_total \d+$/m);
    for (let i = 0; i < 600 && burst.served() < waiting; i++) await sleep(50);
    assert.equal(burst.served(), waiting, 'every queued client got its line');
    assert.equal(tableSize(server.pid), before, 'the burst did not grow the descriptor table');
  } finally {
    burst?.destroy();
    try {
      process.kill(server.pid, 'SIGCONT');
    } catch {
      // Already gone: stop() reports how.
    }
    await server.stop();
  }
});
