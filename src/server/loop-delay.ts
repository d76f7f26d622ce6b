import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const SECONDS = 10;

// The largest event-loop delay over the last 10 s: how long timers, signals and scrapes waited behind
// the work of one loop turn (an accept batch, a flood of datagrams). Read by any number of scrapers
// without resetting anything between them: each second's maximum is kept in a ring of ten.
export class LoopDelay {
  readonly #histogram: ELDHistogram;
  readonly #seconds: number[] = [];
  readonly #tick: NodeJS.Timeout;

  constructor() {
    // 10 ms resolution: a native timer, no JavaScript per sample.
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#tick = setInterval(() => {
      this.#seconds.push(this.#histogram.max);
      if (this.#seconds.length > SECONDS) this.#seconds.shift();
      this.#histogram.reset();
    }, 1000);
    this.#tick.unref();
  }

  // Milliseconds; the current second counts too.
  maxMs(): number {
    return Math.max(this.#histogram.max, ...this.#seconds, 0) / 1e6;
  }

  stop(): void {
    clearInterval(this.#tick);
    this.#histogram.disable();
  }
}
