// How long a /metrics scrape takes while the server works through a burst of connections. Per accept
// path, a fresh `daytime serve --metrics` (A) and a second one (B) of the same build; a scraper fetches
// A's /metrics every 5 ms and times each answer from the client's side. In turn: A idle (1 s); A
// stopped (SIGSTOP) while `dtload -c N -n N` queues N connections on it, then released (SIGCONT) and
// scraped until dtload is done (A's first burst); the same burst sent to B while A stays idle (the
// control: what the machine alone costs the scrape); A's second burst. Builds and paths alternate, one
// burst of each per round, the order rotating. Every burst is bounded (dtload -T 10 s, 20 s in all);
// every process started here is ended here, also on failure or SIGINT.
//   node bench/scrape-burst.ts [--rounds 4] [--clients 3000] [--accept uring,libc,handle]
//     [--interval 5] [--keep-alive on|off] [--build NAME=PATH/cli.js ...] [--json FILE]
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSomaxconn } from '../src/kernel/somaxconn.ts';
import {
  buildPerf,
  type DtloadResult,
  dtloadAsync,
  freePort,
  waitListening,
  waitQueued,
} from './lib/dtload.ts';
import { MetricsScraper, type ScrapeTimes } from './lib/http-scrape.ts';
import { describeMachine } from './lib/machine.ts';
import { ENV } from './lib/peers.ts';
import { formatTable, type Kind, type Row, summarize } from './lib/scrape-summary.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    clients: { type: 'string', default: '3000' },
    accept: { type: 'string', default: 'uring,libc,handle' },
    interval: { type: 'string', default: '5' },
    'keep-alive': { type: 'string', default: 'on' },
    build: { type: 'string', multiple: true },
    json: { type: 'string' },
  },
});
const ROUNDS = Math.min(30, Math.max(1, Number(values.rounds)));
const CLIENTS = Math.min(4000, Math.max(1, Number(values.clients)));
const INTERVAL_MS = Math.max(1, Number(values.interval));
const KEEP_ALIVE = values['keep-alive'] !== 'off';
const IDLE_MS = 1000;
const REST_MS = 300;
const BURST_MAX_MS = 20_000;
const BACKLOG = 4096;
const builds = (values.build ?? [`this=${fileURLToPath(new URL('../dist/cli.js', import.meta.url))}`]).map(
  (spec) => {
    const [name = '', bin = ''] = spec.split(/=(.*)/);
    return { name, bin };
  },
);
const paths = String(values.accept).split(',');

interface Serve {
  port: number;
  metrics: number;
  child: ChildProcess;
}

const somaxconn = readSomaxconn();
if (somaxconn !== undefined && somaxconn < CLIENTS)
  throw new Error(`net.core.somaxconn is ${somaxconn}: a backlog of ${CLIENTS} is not possible (sysctl -w)`);
buildPerf();
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
const scraper = new MetricsScraper(KEEP_ALIVE);
const started = new Set<ChildProcess>();

async function startServe(bin: string, accept: string): Promise<Serve> {
  const [port, metrics] = [await freePort(), await freePort()];
  const args = [
    'serve',
    '--quiet',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--backlog',
    String(BACKLOG),
  ];
  const child = spawn(bin, [...args, '--accept', accept, '--metrics', `127.0.0.1:${metrics}`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: ENV,
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  await waitListening(port);
  for (let i = 0; i < 100 && (await scraper.once(metrics)) === undefined; i++) await sleep(50);
  return { port, metrics, child };
}

function end(serve: Serve): void {
  serve.child.kill('SIGCONT');
  serve.child.kill('SIGTERM');
}

// CLIENTS connections queued on `target` while it is stopped, then released while `scraped` is scraped
// until they are all served.
async function burst(target: Serve, scraped: Serve): Promise<{ times: ScrapeTimes; failed: number }> {
  const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(BURST_MAX_MS)]);
  let load: Promise<DtloadResult>;
  target.child.kill('SIGSTOP');
  try {
    const args = ['-c', String(CLIENTS), '-n', String(CLIENTS), '-t', '1', '-T', '10000'];
    load = dtloadAsync(target.port, args, { signal });
    load.catch(() => undefined);
    if (!(await waitQueued(target.port, CLIENTS, 5000)))
      process.stderr.write(`fewer than ${CLIENTS} connections queued within 5 s\n`);
  } finally {
    target.child.kill('SIGCONT');
  }
  const times = await scraper.until(scraped.metrics, INTERVAL_MS, load, BURST_MAX_MS);
  const result = await load.catch(() => ({}) as DtloadResult);
  return { times, failed: CLIENTS - (result.ok ?? 0) };
}

async function measure(
  bin: string,
  accept: string,
): Promise<{ scrapes: Record<Kind, ScrapeTimes>; failed: number }> {
  const a = await startServe(bin, accept);
  const b = await startServe(bin, accept);
  try {
    const idle = await scraper.during(a.metrics, INTERVAL_MS, IDLE_MS);
    const first = await burst(a, a);
    await sleep(REST_MS, undefined, { signal: stop.signal });
    const control = await burst(b, a);
    await sleep(REST_MS, undefined, { signal: stop.signal });
    const second = await burst(a, a);
    const scrapes = { idle, first: first.times, second: second.times, control: control.times };
    return { scrapes, failed: first.failed + second.failed + control.failed };
  } finally {
    end(a);
    end(b);
  }
}

const rows: Row[] = builds.flatMap(({ name }) =>
  paths.map((accept) => ({ build: name, accept, rounds: [], failedConnections: 0 })),
);
try {
  for (let round = 0; round < ROUNDS && !stop.signal.aborted; round++) {
    for (let i = 0; i < rows.length && !stop.signal.aborted; i++) {
      const row = rows[(round + i) % rows.length] as Row;
      const bin = builds.find((b) => b.name === row.build)?.bin ?? '';
      const { scrapes, failed } = await measure(bin, row.accept);
      // A burst cut short by SIGINT is not a measurement.
      if (stop.signal.aborted) break;
      row.rounds.push(scrapes);
      row.failedConnections += failed;
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  }
} catch (error) {
  if (!stop.signal.aborted) throw error;
  process.stderr.write('interrupted: the rounds measured so far follow\n');
} finally {
  for (const child of started) {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  }
  scraper.close();
}

const result = {
  date: new Date().toISOString(),
  machine: describeMachine(),
  clients: CLIENTS,
  intervalMs: INTERVAL_MS,
  keepAlive: KEEP_ALIVE,
  rounds: ROUNDS,
  builds,
  rows: summarize(rows),
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(
  `${result.machine.label}\n${CLIENTS} connections per burst, a scrape every ${INTERVAL_MS} ms, keep-alive ` +
    `${KEEP_ALIVE ? 'on' : 'off'}, ${ROUNDS} rounds; ms: median scrape / slowest (median of rounds) / ` +
    `slowest of all\n\n${formatTable(result.rows)}\n`,
);
