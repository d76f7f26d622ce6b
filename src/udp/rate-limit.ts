import type { DropReason } from '../observability/stats.ts';
// UDP replies go to whatever source address a datagram claims, so a time server is a reflection vector.
// Token buckets bound what goes out: one per source address and one for the whole socket.

export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #updated: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#rate = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updated = now;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updated) * this.#rate);
    this.#updated = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  // Full again: a source idle this long needs no entry of its own.
  full(now: number): boolean {
    return this.#tokens + (now - this.#updated) * this.#rate >= this.#burst;
  }
}

export type { DropReason };

// What tells one source from another: any string or number (udp/source-key.ts makes a number of an
// IPv4 address and a short string of an IPv6 one, so that a batch of datagrams needs no text).
export type SourceKey = string | number;

export interface RateLimitOptions {
  // Replies a second to one source address, with a burst of twice that (at least 1).
  perSource: number;
  // Replies a second in all, with a burst of one second's worth.
  global: number;
  // Sources tracked at once; beyond it new sources are refused, so a flood of spoofed addresses
  // cannot grow memory without bound.
  maxSources?: number;
}

export class ReplyLimiter {
  readonly #options: Required<RateLimitOptions>;
  readonly #sources = new Map<SourceKey, TokenBucket>();
  readonly #global: TokenBucket;
  #lastSweep: number;

  constructor(options: RateLimitOptions, now = Date.now()) {
    this.#options = { maxSources: 65_536, ...options };
    this.#global = new TokenBucket(options.global, Math.max(1, options.global), now);
    this.#lastSweep = now;
  }

  // Undefined when a reply may go out, otherwise why not.
  check(source: SourceKey, now = Date.now()): DropReason | undefined {
    if (now - this.#lastSweep > 10_000) this.#sweep(now);
    let bucket = this.#sources.get(source);
    if (bucket === undefined) {
      if (this.#sources.size >= this.#options.maxSources) return 'source_table_full';
      const perSource = this.#options.perSource;
      bucket = new TokenBucket(perSource, Math.max(1, perSource * 2), now);
      this.#sources.set(source, bucket);
    }
    if (!bucket.take(now)) return 'source_rate';
    if (!this.#global.take(now)) return 'global_rate';
    return undefined;
  }

  get trackedSources(): number {
    return this.#sources.size;
  }

  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [source, bucket] of this.#sources) if (bucket.full(now)) this.#sources.delete(source);
  }
}
