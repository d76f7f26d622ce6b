import { once } from 'node:events';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { DaytimeError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
import { chooseConnectPath, runLoop } from './connect/choose.ts';
import { type BenchInput, normalizeBenchOptions, resolveHost } from './options.ts';
import {
  type ConnectPathName,
  type Counts,
  emptyCounts,
  type LoopConfig,
  type LoopResult,
  OUTCOMES,
} from './tally.ts';

export interface BenchProgress {
  elapsedMs: number;
  // Share of the count or the duration done, 0..1.
  fraction: number;
  completed: number;
  ok: number;
  errors: number;
  // Completed connections a second over the last tick.
  rate: number;
}

export interface BenchResult {
  target: string;
  service: 'daytime' | 'time';
  connections: number;
  workers: number;
  durationMs: number;
  completed: number;
  ok: number;
  errors: Omit<Counts, 'ok'>;
  // ok connections a second: each thread's connections finished inside its window, over the window.
  connPerSec: number;
  // Connect-to-EOF latency of ok connections, milliseconds; null when none was ok (nothing measured).
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number } | null;
  // Connections that took 1 s or more: a dropped SYN waits at least 1 s for its retransmission.
  slow: number;
  // How the connections were made (connect/choose.ts): libc, handle or socket.
  connectPath: ConnectPathName;
  // The caller's signal ended the run before its count or duration: the figures are partial.
  interrupted: boolean;
}

export interface RunBenchOptions extends BenchInput {
  signal?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  // How often onProgress is called (default once a second; at least 50 ms).
  progressIntervalMs?: number;
}

// With nothing accepted yet, this many failed connects (refused, unreachable) end the run: a closed
// port refuses tens of thousands a second, and none of them measures a server.
const NOTHING_ACCEPTS_AFTER = 256;
const failedConnects = (c: Counts) => c.refused + c.other;

// Load for a daytime or time server: connections in flight, for a duration or a count, over worker
// threads. Rejects (ECONNREFUSED or the like) when no connection could be made at all.
export async function runBench(options: RunBenchOptions = {}): Promise<BenchResult> {
  const config = normalizeBenchOptions(options);
  const address = await resolveHost(config.host);
  const connect = await chooseConnectPath(config.connect, address);
  const shares = split(config.connections, config.workers);
  const countShares = config.count === undefined ? undefined : split(config.count, config.workers);
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  const loops = shares.map<LoopConfig>((connections, i) => ({
    address,
    port: config.port,
    connections,
    count: countShares?.[i],
    deadline: undefined,
    timeoutMs: config.timeoutMs,
    service: config.service,
    connect,
  }));
  const live = loops.map(() => emptyCounts());
  const started = performance.now();
  let lastCompleted = 0;
  const interval = Math.max(50, options.progressIntervalMs ?? 1000);
  const ticker = setInterval(() => {
    const total = sum(live);
    const completed = OUTCOMES.reduce((n, o) => n + total[o], 0);
    const elapsedMs = performance.now() - started;
    options.onProgress?.({
      elapsedMs,
      fraction: Math.min(1, config.count ? completed / config.count : elapsedMs / (config.durationMs ?? 1)),
      completed,
      ok: total.ok,
      errors: completed - total.ok,
      rate: ((completed - lastCompleted) * 1000) / interval,
    });
    lastCompleted = completed;
  }, interval);
  let nothingAccepts = false;
  const watchdog = setInterval(() => {
    const total = sum(live);
    if (total.ok === 0 && failedConnects(total) >= Math.max(NOTHING_ACCEPTS_AFTER, config.connections)) {
      nothingAccepts = true;
      stop.abort();
    }
  }, 50);
  try {
    const results =
      // The libc and uring paths block their thread in epoll_wait or io_uring_enter, so they always run
      // in worker threads: a server in the same process (a test, a script) must keep its event loop.
      config.workers === 1 && connect !== 'libc' && connect !== 'uring'
        ? [await runInline(loops[0] as LoopConfig, config.durationMs, stop.signal, live[0] as Counts)]
        : await Promise.all(
            loops.map((loop, i) => runInWorker(loop, config.durationMs, stop.signal, live[i] as Counts)),
          );
    const durationMs = performance.now() - started;
    const result = summarize(config, results, durationMs, options.signal?.aborted === true);
    const counts = sum(results.map((r) => r.counts));
    if (
      !result.interrupted &&
      (nothingAccepts || (counts.ok === 0 && failedConnects(counts) === result.completed))
    )
      throw nothingAccepted(result, counts);
    return result;
  } finally {
    clearInterval(ticker);
    clearInterval(watchdog);
  }
}

function runInline(loop: LoopConfig, durationMs: number | undefined, signal: AbortSignal, counts: Counts) {
  const deadline = durationMs === undefined ? undefined : performance.now() + durationMs;
  return runLoop({ ...loop, deadline }, signal, counts);
}

async function runInWorker(
  loop: LoopConfig,
  durationMs: number | undefined,
  signal: AbortSignal,
  counts: Counts,
): Promise<LoopResult> {
  const file = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js';
  const worker = new Worker(new URL(file, import.meta.url), { workerData: { config: loop, durationMs } });
  const onAbort = () => worker.postMessage('stop');
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<LoopResult>((resolve, reject) => {
      worker.on('message', (message: { type: string; counts: Counts } & Partial<LoopResult>) => {
        Object.assign(counts, message.counts);
        if (message.type === 'done') {
          resolve({
            counts: message.counts,
            latency: message.latency as RecordableHistogram,
            slow: message.slow ?? 0,
            windowOk: message.windowOk ?? 0,
            windowMs: message.windowMs ?? 1,
            connectPath: message.connectPath ?? loop.connect,
          });
        }
      });
      worker.on('error', reject);
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    await worker.terminate();
    if (worker.threadId !== -1) await once(worker, 'exit').catch(() => {});
  }
}

function nothingAccepted(result: BenchResult, counts: Counts): DaytimeError {
  const num = (n: number) => n.toLocaleString('en-US');
  const [code, what] =
    counts.refused > 0 ? (['ECONNREFUSED', 'refused'] as const) : (['ERR_CANNOT_CONNECT', 'failed'] as const);
  return new DaytimeError(
    code,
    `nothing accepted a connection at ${result.target}: ${num(failedConnects(counts))} attempts ${what}, ` +
      'none succeeded (is a server listening there?)',
  );
}

function summarize(
  config: ReturnType<typeof normalizeBenchOptions>,
  results: LoopResult[],
  durationMs: number,
  interrupted: boolean,
): BenchResult {
  const latency = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 });
  for (const r of results) latency.add(r.latency);
  const counts = sum(results.map((r) => r.counts));
  const ms = (micros: number) => Math.round(micros) / 1000;
  const empty = latency.count === 0;
  const { ok, ...errors } = counts;
  return {
    target: formatHostPort(config.host, config.port),
    service: config.service,
    connections: config.connections,
    workers: config.workers,
    durationMs: Math.round(durationMs),
    completed: OUTCOMES.reduce((n, o) => n + counts[o], 0),
    ok,
    errors,
    // Each thread's ok connections over its own window, summed: start-up and tail left out.
    connPerSec: Math.round(results.reduce((n, r) => n + (r.windowOk / r.windowMs) * 1000, 0) * 10) / 10,
    latencyMs: empty
      ? null
      : {
          p50: ms(latency.percentile(50)),
          p90: ms(latency.percentile(90)),
          p99: ms(latency.percentile(99)),
          p999: ms(latency.percentile(99.9)),
          max: ms(latency.max),
          mean: ms(latency.mean),
        },
    slow: results.reduce((n, r) => n + r.slow, 0),
    connectPath: results[0]?.connectPath ?? 'socket',
    interrupted,
  };
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

function sum(all: Counts[]): Counts {
  const total = emptyCounts();
  for (const c of all) for (const o of OUTCOMES) total[o] += c[o];
  return total;
}
