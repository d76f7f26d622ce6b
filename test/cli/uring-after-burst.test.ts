import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBench } from '../../src/index.ts';
import { CHAINS_UNAVAILABLE, URING_UNAVAILABLE } from '../helpers/accept.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { rawQuery } from '../helpers/raw-client.ts';

// After a burst, a round of the ring's loop must end and give Node's loop back. A round that kept
// looking because the SQ ring's TASKRUN flag stayed set never did: the kernel went on serving from the
// round's waits, but with the reply of the burst's second (the reply is brought up to date between
// rounds), and timers, signals and scrapes starved. The reply a client gets seconds later names the
// second it was sent in, and SIGTERM still drains.

const seconds = (line: string) => Math.floor(new Date(line.trim()).getTime() / 1000);

for (const [accept, why] of [
  ['uring', CHAINS_UNAVAILABLE],
  ['uring-accept', URING_UNAVAILABLE],
] as const)
  test(`--accept ${accept}: after a burst of 1,000 the loop runs again: the next reply is today's, SIGTERM drains`, async (t) => {
    if (why) return missingPeer(t, why);
    const server = await startQuietServer(['--accept', accept, '--backlog', '1024']);
    try {
      const burst = await runBench({
        host: '127.0.0.1',
        port: server.port,
        count: 1000,
        connections: 1000,
        timeout: 30,
      });
      assert.equal(burst.ok, 1000, JSON.stringify(burst.errors));
      const after = Math.floor(Date.now() / 1000);
      await sleep(2100);
      const line = (await rawQuery(server.port)).data.toString('latin1');
      assert.ok(seconds(line) >= after + 2, `a reply of ${line.trim()} more than 2 s after the burst`);
    } finally {
      const { code } = await server.stop();
      assert.equal(code, 0, 'SIGTERM drained and the server exited');
    }
  });
