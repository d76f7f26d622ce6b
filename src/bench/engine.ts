import net from 'node:net';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import { detectFastConnect, type FastConnect, type RawHandle, startConnect } from './fast-connect.ts';

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
  // Connect on the bare TCP handle where this Node allows it (fast-connect.ts), else a net.Socket.
  fastConnect: boolean;
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
  // Whether the connections were made on bare TCP handles.
  fastConnect: boolean;
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

type Done = (attempt: Attempt, outcome: Outcome) => void;
// One connection in flight, whichever way it is made.
interface Attempt {
  readonly start: number;
  fail(outcome: Outcome): void;
}
type NewAttempt = (done: Done) => Attempt;

// What the reply check needs of a connection's reads, kept as they arrive instead of the bytes.
interface ReplyTail {
  bytes: number;
  last: number;
  secondLast: number;
}
function noteRead(tail: ReplyTail, size: number, buffer: Uint8Array): void {
  tail.bytes += size;
  tail.secondLast = size > 1 ? (buffer[size - 2] ?? 0) : tail.last;
  tail.last = buffer[size - 1] ?? 0;
}
// The reply check: a CRLF line of at most 512 bytes, or exactly 4 bytes for time.
const replyOk = (service: LoopConfig['service'], { bytes, secondLast, last }: ReplyTail) =>
  service === 'time' ? bytes === 4 : bytes > 2 && bytes <= 512 && secondLast === 13 && last === 10;

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
  const fast = config.fastConnect ? detectFastConnect() : undefined;
  const newAttempt: NewAttempt = fast ? rawAttempts(fast, config) : (done) => new SocketAttempt(config, done);

  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(sweeper);
      const end =
        wanted === undefined
          ? Math.min(windowEnd || performance.now(), config.deadline ?? Infinity)
          : performance.now();
      resolve({
        counts,
        latency,
        slow,
        windowOk,
        windowMs: Math.max(1, end - begun),
        fastConnect: fast !== undefined,
      });
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
      inFlight.add(newAttempt(done));
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

// One connection on a bare TCP handle (fast-connect.ts): the handle is the attempt, its onread a
// shared function, and a read's bytes land in the thread's one buffer.
function rawAttempts(fast: FastConnect, config: LoopConfig): NewAttempt {
  const target = { address: config.address, port: config.port, ipv6: net.isIPv6(config.address) };
  const { service } = config;
  class RawAttempt extends fast.TCP implements Attempt, ReplyTail {
    readonly start = performance.now();
    readonly done: Done;
    ended = false;
    bytes = 0;
    last = 0;
    secondLast = 0;

    constructor(done: Done) {
      super(fast.socketType);
      this.done = done;
      this.onread = onRawRead;
      this.useUserBuffer(READ_BUFFER);
      const status = startConnect(fast, this, target, afterConnect);
      // Failed before any request was made: report it on the next tick, once the loop holds it.
      if (status < 0) process.nextTick(() => this.fail(classify(getSystemErrorName(status))));
    }

    fail(outcome: Outcome): void {
      if (this.ended) return;
      this.ended = true;
      this.close();
      this.done(this, outcome);
    }
  }
  function afterConnect(status: number, handle: RawHandle): void {
    const attempt = handle as RawAttempt;
    if (status < 0) attempt.fail(classify(getSystemErrorName(status)));
    else {
      const error = attempt.readStart();
      if (error < 0) attempt.fail(classify(getSystemErrorName(error)));
    }
  }
  function onRawRead(this: RawHandle): void {
    const attempt = this as RawAttempt;
    const size = fast.readResult();
    if (size > 0) noteRead(attempt, size, READ_BUFFER);
    else if (size === fast.eof) {
      attempt.fail(replyOk(service, attempt) ? 'ok' : 'shortRead');
    } else if (size < 0) {
      attempt.fail(classify(getSystemErrorName(size)));
    }
  }
  return (done) => new RawAttempt(done);
}

// One connection on a net.Socket. It is the socket itself and its handlers are shared functions
// called with `this` set to it: no closures and no second object per connection, which the load
// generator feels at 30,000 connections a second.
class SocketAttempt extends net.Socket implements Attempt, ReplyTail {
  readonly start = performance.now();
  readonly done: Done;
  readonly service: 'daytime' | 'time';
  bytes = 0;
  last = 0;
  secondLast = 0;

  constructor(config: LoopConfig, done: Done) {
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

function onRead(this: SocketAttempt, size: number, buffer: Uint8Array): boolean {
  noteRead(this, size, buffer);
  return true;
}

function onEnd(this: SocketAttempt): void {
  const ok = replyOk(this.service, this);
  this.destroy();
  this.done(this, ok ? 'ok' : 'shortRead');
}

function onError(this: SocketAttempt, error: NodeJS.ErrnoException): void {
  this.fail(classify(error.code));
}
