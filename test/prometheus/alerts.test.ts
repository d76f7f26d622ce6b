import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeNetns, type Netns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { CLI_ENV, ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';

// A real Prometheus (Debian's 2.42) scraping `daytime serve --workers 2` every 2 s (timeout 1 s) and
// evaluating the deploy rules every second, their `for:` cut to 2 s. As root, everything runs in a
// network namespace of its own, so the kernel's ListenOverflows counter is this test's alone;
// otherwise in the host's, where other traffic could add to it.
const hasPrometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
const useNamespace = netnsUnavailable('ip netns') === undefined;
let ns: Netns | undefined;
const inNs = (command: string, args: string[]): [string, string[]] => {
  const [file = command, ...rest] = ns ? ns.exec([command, ...args]) : [command, ...args];
  return [file, rest];
};
// Fixed ports inside the namespace (nobody else is there); free ones in the host's.
const [SERVER_PORT, METRICS_PORT, PROMETHEUS_PORT] = useNamespace
  ? [9313, 9464, 9390]
  : [await freePort(), await freePort(), await freePort()];

function start(command: string, args: string[]): ChildProcess {
  const [file, rest] = inNs(command, args);
  return spawn(file, rest, { env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
}

// An HTTP GET from inside the namespace, where 127.0.0.1 is the namespace's own loopback.
function get(url: string): string {
  const [file, rest] = inNs('curl', ['-s', '--max-time', '5', url]);
  return execFileSync(file, rest, { encoding: 'utf8' });
}

// Alerts by name, with their state (pending or firing).
function alerts(): Record<string, string> {
  const body = JSON.parse(get(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/alerts`)) as {
    data: { alerts: { labels: { alertname: string }; state: string }[] };
  };
  return Object.fromEntries(body.data.alerts.map((a) => [a.labels.alertname, a.state]));
}

// When Prometheus last evaluated every rule group (seconds since the epoch): the earliest group's.
function lastEvaluation(): number {
  const body = JSON.parse(get(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/rules`)) as {
    data: { groups: { lastEvaluation: string }[] };
  };
  const times = body.data.groups.map((g) => Date.parse(g.lastEvaluation) / 1000);
  return times.length > 0 ? Math.min(...times) : 0;
}

function query(expr: string): { metric: Record<string, string>; value: [number, string] }[] {
  const body = JSON.parse(
    get(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(expr)}`),
  );
  return body.data.result;
}

async function waitUntil<T>(
  what: string,
  read: () => T,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms, last ${JSON.stringify(value)}`);
    await sleep(500);
  }
}

// Clients from inside the namespace: daytime bench, bounded in count and time.
function bench(count: number, connections: number, timeoutS: number): ChildProcess {
  return start(`${ROOT}node_modules/.bin/node`, [
    `${ROOT}dist/cli.js`,
    'bench',
    `127.0.0.1:${SERVER_PORT}`,
    '--count',
    String(count),
    '--connections',
    String(connections),
    '--timeout',
    String(timeoutS),
    '--json',
  ]);
}

test('Prometheus fires DaytimeListenOverflows and DaytimeAcceptQueueFilling for a stopped worker, and neither under a healthy load', async (t) => {
  if (!hasPrometheus)
    return missingPeer(t, 'prometheus is not installed (apt-get install --no-install-recommends prometheus)');
  if (spawnSync('curl', ['--version'], { stdio: 'ignore' }).status !== 0)
    return missingPeer(t, 'curl is missing');
  const dir = mkdtempSync(join(tmpdir(), 'daytime-prometheus-'));
  const children: ChildProcess[] = [];
  if (useNamespace) ns = makeNetns('prom');
  try {
    // The deploy rules with every `for:` at 2 s, so the test takes seconds, not minutes.
    const rules = readFileSync(`${ROOT}deploy/prometheus/daytime-rules.yml`, 'utf8').replace(
      /for: \d+[smh]/g,
      'for: 2s',
    );
    writeFileSync(join(dir, 'rules.yml'), rules);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 2s, scrape_timeout: 1s, evaluation_interval: 1s }\n` +
        `rule_files: [rules.yml]\n` +
        `scrape_configs:\n  - job_name: daytime\n    static_configs: [{ targets: ["127.0.0.1:${METRICS_PORT}"] }]\n`,
    );
    const server = start(`${ROOT}node_modules/.bin/node`, [
      `${ROOT}dist/cli.js`,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(SERVER_PORT),
      '--backlog',
      '8',
      '--workers',
      '2',
      '--quiet',
      '--log-format',
      'json',
      '--metrics',
      `127.0.0.1:${METRICS_PORT}`,
    ]);
    children.push(server);
    let log = '';
    server.stdout?.on('data', (c) => {
      log += c;
    });
    const prometheus = start('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
    ]);
    children.push(prometheus);
    const workers = await waitUntil('workers up', () => /"pids":\[(\d+),(\d+)\]/.exec(log), Boolean, 30_000);
    // Healthy: both workers serve a steady load while Prometheus scrapes and evaluates. Four clients
    // at a time can never fill a queue of 9 (16 at a time could, briefly: that is an overflow too).
    await waitUntil(
      'first scrapes',
      () => query('up{job="daytime"}')[0]?.value[1],
      (v) => v === '1',
      60_000,
    );
    for (let i = 0; i < 4; i++) {
      const run = bench(3000, 4, 10);
      await once(run, 'close');
    }
    // What the alerts say once Prometheus has scraped after the load and evaluated the rules after
    // that scrape: the whole load is in what they looked at.
    const loadEnded = Date.now() / 1000;
    const scraped = await waitUntil(
      'a scrape after the load',
      () => Number(query('timestamp(up{job="daytime"})')[0]?.value[1] ?? 0),
      (at) => at > loadEnded,
      30_000,
    );
    await waitUntil('the rules evaluated after that scrape', lastEvaluation, (at) => at > scraped, 30_000);
    const healthy = alerts();
    assert.equal(healthy.DaytimeListenOverflows, undefined, JSON.stringify(healthy));
    assert.equal(healthy.DaytimeAcceptQueueFilling, undefined, JSON.stringify(healthy));

    // One worker stopped: its accept queue (backlog 8 + 1) fills, and further SYNs are dropped.
    const stopped = Number(workers?.[1]);
    process.kill(stopped, 'SIGSTOP');
    try {
      const stuck = bench(60, 60, 25);
      children.push(stuck);
      const firing = await waitUntil(
        'both alerts firing',
        alerts,
        (a) => a.DaytimeListenOverflows === 'firing' && a.DaytimeAcceptQueueFilling === 'firing',
        60_000,
      );
      assert.equal(firing.DaytimeDown, undefined, 'the primary kept answering the scrape');
      const up = query('daytime_worker_up');
      assert.deepEqual(
        up.map((r) => [r.metric.worker, r.value[1]]).sort(),
        [
          ['1', '0'],
          ['2', '1'],
        ].sort((a, b) => String(a).localeCompare(String(b))),
      );
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'close') : null)),
    );
    ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});
