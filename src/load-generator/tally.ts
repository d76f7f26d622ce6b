import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { ConnectPathName } from '../options/bench.ts';

// otherProtocol: a reply of the other service (4 bytes without a line to daytime, a line to time):
// the wrong port, or --time missing or extra.
export const OUTCOMES = ['ok', 'refused', 'reset', 'timeout', 'shortRead', 'otherProtocol', 'other'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Counts = Record<Outcome, number>;

// The ways a connection can be made, fastest first; `auto` takes the first that runs here.
// The connect paths are named where the option is declared (options/bench.ts).
export {
  CONNECT_CHOICES,
  CONNECT_PATHS,
  type ConnectChoice,
  type ConnectPathName,
} from '../options/bench.ts';

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
  // Chosen once for the whole run (connect/choose.ts).
  connect: ConnectPathName;
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
  connectPath: ConnectPathName;
}

export const emptyCounts = (): Counts => ({
  ok: 0,
  refused: 0,
  reset: 0,
  timeout: 0,
  shortRead: 0,
  otherProtocol: 0,
  other: 0,
});

export const classify = (code: string | undefined): Outcome =>
  code === 'ECONNREFUSED' ? 'refused' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'other';

// What the reply check needs of a connection's reads, kept as they arrive instead of the bytes.
export interface ReplyTail {
  bytes: number;
  last: number;
  secondLast: number;
}
export function noteRead(tail: ReplyTail, size: number, buffer: Uint8Array, offset = 0): void {
  tail.bytes += size;
  tail.secondLast = size > 1 ? (buffer[offset + size - 2] ?? 0) : tail.last;
  tail.last = buffer[offset + size - 1] ?? 0;
}
// The reply check: a CRLF line of at most 512 bytes, or exactly 4 bytes for time.
export function replyOutcome(
  service: LoopConfig['service'],
  { bytes, secondLast, last }: ReplyTail,
): Outcome {
  const line = bytes > 2 && bytes <= 512 && secondLast === 13 && last === 10;
  if (service === 'time') return bytes === 4 ? 'ok' : line ? 'otherProtocol' : 'shortRead';
  return line ? 'ok' : bytes === 4 ? 'otherProtocol' : 'shortRead';
}

// What every connect path records per finished connection, and the loop's result.
export class Tally {
  readonly counts: Counts;
  readonly #config: LoopConfig;
  readonly #latency = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 });
  readonly #begun = performance.now();
  #slow = 0;
  #windowOk = 0;
  #windowEnd = 0;
  started = 0;

  constructor(config: LoopConfig, counts: Counts) {
    this.#config = config;
    this.counts = counts;
  }

  // May another connection start?
  more(signal: AbortSignal, now = performance.now()): boolean {
    const { count, deadline } = this.#config;
    return !signal.aborted && (count === undefined ? now < (deadline ?? 0) : this.started < count);
  }

  record(start: number, outcome: Outcome, now = performance.now()): void {
    const micros = Math.max(1, Math.round((now - start) * 1000));
    this.counts[outcome]++;
    const { deadline } = this.#config;
    if (outcome === 'ok') {
      this.#latency.record(micros);
      if (deadline === undefined || now <= deadline) this.#windowOk++;
    }
    if (deadline !== undefined && now > deadline && this.#windowEnd === 0) this.#windowEnd = deadline;
    if (micros >= 1_000_000) this.#slow++;
  }

  result(connectPath: ConnectPathName): LoopResult {
    const { count, deadline } = this.#config;
    const end =
      count === undefined
        ? Math.min(this.#windowEnd || performance.now(), deadline ?? Number.POSITIVE_INFINITY)
        : performance.now();
    return {
      counts: this.counts,
      latency: this.#latency,
      slow: this.#slow,
      windowOk: this.#windowOk,
      windowMs: Math.max(1, end - this.#begun),
      connectPath,
    };
  }
}
