import net from 'node:net';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export const OUTCOMES = ['ok', 'refused', 'reset', 'timeout', 'shortRead', 'other'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Counts = Record<Outcome, number>;

export interface LoopConfig {
  address: string;
  port: number;
  // Connections in flight in this loop.
  connections: number;
  // This loop's share of the count, or a deadline (performance.now()).
  count: number | undefined;
  deadline: number | undefined;
  timeoutMs: number;
  service: 'daytime' | 'time';
}

export interface LoopResult {
  counts: Counts;
  // Connect-to-EOF latency in microseconds, ok connections only.
  latency: RecordableHistogram;
  // Connections (any outcome) that took 1 s or more: the signature of a dropped SYN.
  slow: number;
  // ok connections that finished inside this loop's own window, and the window's length: the rate
  // leaves out thread start-up and the tail of connections still in flight at the end (as dtload does).
  windowOk: number;
  windowMs: number;
}

export const emptyCounts = (): Counts => ({
  ok: 0,
  refused: 0,
  reset: 0,
  timeout: 0,
  shortRead: 0,
  other: 0,
});

const classify = (code: string | undefined): Outcome =>
  code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'other';

// A closed loop: `connections` connections in flight, each replaced as it finishes. Each one connects,
// reads to EOF and checks the reply (a CRLF line, or 4 bytes for time).
export function runLoop(config: LoopConfig, signal: AbortSignal, counts: Counts): Promise<LoopResult> {
  const latency = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 });
  const inFlight = new Set<Attempt>();
  let started = 0;
  let slow = 0;
  let windowOk = 0;
  const begun = performance.now();
  let windowEnd = 0;
  const wanted = config.count;

  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(sweeper);
      const end =
        wanted === undefined
          ? Math.min(windowEnd || performance.now(), config.deadline ?? Infinity)
          : performance.now();
      resolve({ counts, latency, slow, windowOk, windowMs: Math.max(1, end - begun) });
    };
    const more = () =>
      !signal.aborted &&
      (wanted === undefined ? performance.now() < (config.deadline ?? 0) : started < wanted);
    const done = (attempt: Attempt, outcome: Outcome) => {
      if (!inFlight.delete(attempt)) return;
      const micros = Math.max(1, Math.round((performance.now() - attempt.start) * 1000));
      counts[outcome]++;
      const now = performance.now();
      if (outcome === 'ok') {
        latency.record(micros);
        if (config.deadline === undefined || now <= config.deadline) windowOk++;
      }
      if (config.deadline !== undefined && now > config.deadline && windowEnd === 0)
        windowEnd = config.deadline;
      if (micros >= 1_000_000) slow++;
      if (more()) open();
      else if (inFlight.size === 0) finish();
    };
    const open = () => {
      started++;
      const attempt = new Attempt(config, done);
      inFlight.add(attempt);
    };
    // One timer for all connections: cheaper than a timer each.
    const sweeper = setInterval(
      () => {
        const now = performance.now();
        for (const attempt of inFlight) if (now - attempt.start > config.timeoutMs) attempt.fail('timeout');
      },
      Math.min(100, config.timeoutMs),
    );
    const first = Math.min(config.connections, wanted ?? config.connections);
    for (let i = 0; i < first; i++) open();
    if (first === 0) finish();
  });
}

const READ_BUFFER = Buffer.allocUnsafe(1024);

// One connection. It is the socket itself and its handlers are shared functions called with `this`
// set to it: no closures and no second object per connection, which the load generator feels at
// 30,000 connections a second.
class Attempt extends net.Socket {
  readonly start = performance.now();
  readonly done: (attempt: Attempt, outcome: Outcome) => void;
  readonly service: 'daytime' | 'time';
  bytes = 0;
  last = 0;
  secondLast = 0;

  constructor(config: LoopConfig, done: (attempt: Attempt, outcome: Outcome) => void) {
    // onread with one shared buffer: no Buffer allocated per read, and no 'data' events.
    // allowHalfOpen: at EOF Node would otherwise shutdown() its side first, a syscall we close over anyway.
    super({ allowHalfOpen: true, onread: { buffer: READ_BUFFER, callback: onRead } });
    this.done = done;
    this.service = config.service;
    this.on('end', onEnd);
    this.on('error', onError);
    this.connect(config.port, config.address);
  }

  fail(outcome: Outcome): void {
    this.destroy();
    this.done(this, outcome);
  }
}

function onRead(this: Attempt, size: number, buffer: Uint8Array): boolean {
  this.bytes += size;
  this.secondLast = size > 1 ? (buffer[size - 2] ?? 0) : this.last;
  this.last = buffer[size - 1] ?? 0;
  return true;
}

function onEnd(this: Attempt): void {
  const ok =
    this.service === 'time'
      ? this.bytes === 4
      : this.bytes > 2 && this.bytes <= 512 && this.secondLast === 13 && this.last === 10;
  this.destroy();
  this.done(this, ok ? 'ok' : 'shortRead');
}

function onError(this: Attempt, error: NodeJS.ErrnoException): void {
  this.fail(classify(error.code));
}
