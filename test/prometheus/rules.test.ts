import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';

const RULES = `${ROOT}deploy/prometheus/daytime-rules.yml`;
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const skip = hasPromtool
  ? undefined
  : 'promtool is not installed (apt-get install --no-install-recommends prometheus)';

test('promtool check rules: the five alerts', (t) => {
  if (skip) return missingPeer(t, skip);
  const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 5 rules found/);
  for (const name of [
    'DaytimeListenOverflows',
    'DaytimeAcceptQueueFilling',
    'DaytimeConnectionErrors',
    'DaytimeUdpRateLimited',
    'DaytimeDown',
  ]) {
    assert.match(
      spawnSync('grep', ['-c', `alert: ${name}$`, RULES], { encoding: 'utf8' }).stdout,
      /^1$/m,
      name,
    );
  }
});

test('promtool test rules: each alert fires on its input series, and not below its threshold', (t) => {
  if (skip) return missingPeer(t, skip);
  const r = spawnSync('promtool', ['test', 'rules', `${ROOT}deploy/prometheus/daytime-rules.test.yml`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('promtool check metrics passes on /metrics, with two workers, time and UDP', async (t) => {
  if (skip) return missingPeer(t, skip);
  const metricsPort = await freePort();
  // The primary's line (it names the workers): its PID is the one to stop.
  const server = await startCliServer(
    [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--quiet',
      '--workers',
      '2',
      '--udp',
      '--time-port',
      '0',
      '--metrics',
      `127.0.0.1:${metricsPort}`,
    ],
    (record) => typeof record.workers === 'number',
  );
  try {
    const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(body, /^daytime_worker_up\{worker="1"\} 1$/m);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout + r.stderr, '', 'no lint warnings');
    // A stopped worker, scraped again and again: counted as down each time, its last counters kept,
    // and no listener left behind per unanswered question (Node warns past ten).
    const [stopped] = (server.logs.find((l) => l.workers) as { pids: number[] }).pids;
    process.kill(stopped ?? 0, 'SIGSTOP');
    try {
      for (let i = 0; i < 12; i++) {
        const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        assert.match(scrape, /^daytime_worker_up\{worker="1"\} 0$/m);
      }
    } finally {
      process.kill(stopped ?? 0, 'SIGCONT');
    }
  } finally {
    const { stderr } = await server.stop();
    assert.doesNotMatch(stderr, /MaxListenersExceeded/);
  }
});
