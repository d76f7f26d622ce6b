import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopDelay } from '../../src/observability/loop-delay.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { sample, scrape } from '../helpers/metrics.ts';
import { freePort } from '../helpers/ports.ts';

test('the loop delay: a turn that holds the loop 300 ms reads at least that, less the sampling interval', async () => {
  const delay = new LoopDelay();
  try {
    await sleep(50);
    const start = performance.now();
    while (performance.now() - start < 300) {
      // holds the loop, as an unbounded accept batch would
    }
    await sleep(30);
    // The sampling timer's interval spanning the block is at least 300 ms; what exceeds its 10 ms
    // resolution is the delay. A slower machine only reads more.
    assert.ok(delay.maxMs() >= 280, `read ${delay.maxMs()} ms`);
  } finally {
    delay.stop();
  }
});

test('serve --metrics exports daytime_event_loop_delay_max_seconds: a loop held 500 ms reads at least 0.4 s', async () => {
  const metricsPort = await freePort();
  const server = await startQuietServer(['--metrics', `127.0.0.1:${metricsPort}`]);
  try {
    // A stopped process runs nothing: to its loop, the 500 ms are one turn that held it.
    process.kill(server.pid, 'SIGSTOP');
    await sleep(500);
    process.kill(server.pid, 'SIGCONT');
    // The sampling timer records the interval when it next runs, which may come after the first
    // scrape's answer; the gauge keeps a second's maximum for 10 s, so a few scrapes are enough.
    let value: number | undefined;
    for (let i = 0; i < 20 && !(value !== undefined && value >= 0.4); i++)
      value = sample(await scrape(metricsPort), 'daytime_event_loop_delay_max_seconds');
    assert.ok(value !== undefined && value >= 0.4, `got ${value}`);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
