import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readListenQueues } from '../../src/index.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitingClients } from '../helpers/raw-client.ts';
import { HAS_STRACE, straceCalls } from '../helpers/strace.ts';

const skip = process.platform !== 'linux' && 'the libc accept path needs Linux';

test('the drain asks the kernel about its own socket only: no /proc/net scan', { skip }, async (t) => {
  if (!HAS_STRACE) return missingPeer(t, 'strace is not installed (apt-get install strace)');
  const server = await startQuietServer(['--accept', 'libc']);
  process.kill(server.pid, 'SIGSTOP');
  const queued = waitingClients(server.port, 20);
  try {
    for (let i = 0; i < 200 && ((await readListenQueues(server.port))?.[0]?.queued ?? 0) < 20; i++)
      await sleep(25);
    const trace = await straceCalls(server.pid, ['openat', 'getsockopt']);
    process.kill(server.pid, 'SIGTERM');
    process.kill(server.pid, 'SIGCONT');
    const { code } = await server.stop('SIGCONT');
    assert.equal(code, 0);
    assert.equal(queued.served(), 20, 'every queued client got its line');
    const calls = await trace.stop();
    assert.ok(
      calls.some((c) => c.name === 'getsockopt' && c.line.includes('TCP_INFO')),
      'the queue was read with getsockopt(TCP_INFO)',
    );
    assert.deepEqual(
      calls.filter((c) => c.line.includes('/proc/net')).map((c) => c.line),
      [],
      'no /proc/net file was read',
    );
  } finally {
    queued.destroy();
  }
});
