import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startQuietServer } from '../helpers/cli-server.ts';
import { sample, scrape } from '../helpers/metrics.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { HAS_STRACE, straceCalls } from '../helpers/strace.ts';

const noCount = statSync('/proc/self/fd', { throwIfNoEntry: false })?.size
  ? undefined
  : 'this kernel gives no count as the size of /proc/self/fd (Linux 6.2): the directory is listed there';
const skip = process.platform !== 'linux' && 'Linux only';

// prom-client's process_open_fds lists /proc/self/fd on every scrape: 6 ms for 3,000 open descriptors
// here, on the event loop, while the uring path holds that many in a burst. The descriptor watch (once
// a second) listed it too.
test('neither a scrape nor the descriptor watch lists /proc/self/fd; process_open_fds is still the count', {
  skip,
}, async (t) => {
  if (!HAS_STRACE) return missingPeer(t, 'strace is not installed (apt-get install strace)');
  if (noCount) return missingPeer(t, noCount);
  const metrics = await freePort();
  const server = await startQuietServer(['--metrics', `127.0.0.1:${metrics}`]);
  try {
    const trace = await straceCalls(server.pid, ['openat', 'open']);
    const scrapes: string[] = [];
    // Over more than a second, so the watch's turn comes too.
    for (let i = 0; i < 4; i++) {
      scrapes.push(await scrape(metrics));
      await sleep(400);
    }
    const calls = await trace.stop();
    assert.deepEqual(
      calls.filter((c) => c.line.includes('/proc/self/fd') || c.line.includes(`/proc/${server.pid}/fd`)),
      [],
      'no listing of the descriptor table',
    );
    const open = sample(scrapes.at(-1) ?? '', 'process_open_fds');
    const outside = readdirSync(`/proc/${server.pid}/fd`).length;
    // The scrape's own connection may have come or gone between the two looks.
    assert.ok(
      open !== undefined && Math.abs(open - outside) <= 2,
      `process_open_fds ${open}, /proc: ${outside}`,
    );
  } finally {
    await server.stop();
  }
});
