import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

const SECONDS = 10;
const RESOLUTION_MS = 10;

// The largest event-loop delay over the last 10 s: how long timers, signals and scrapes waited behind
// the work of one loop turn (an accept batch, a flood of datagrams). Read by any number of scrapers
// without resetting anything between them: each second's maximum is kept in a ring of ten.
export class LoopDelay {
  readonly #histogram: ELDHistogram;
  readonly #seconds: number[] = [];
  readonly #tick: NodeJS.Timeout;

  constructor() {
    // 10 ms resolution: a native timer, no JavaScript per sample.
    this.#histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.#histogram.enable();
    this.#tick = setInterval(() => {
      this.#seconds.push(this.#histogram.max);
      if (this.#seconds.length > SECONDS) this.#seconds.shift();
      this.#histogram.reset();
    }, 1000);
    this.#tick.unref();
  }

  // Milliseconds; the current second counts too. The histogram holds the intervals between the
  // sampling timer's runs (Node records the whole interval), so an idle loop reads 10 ms: the delay
  // is what exceeds the resolution.
  maxMs(): number {
    return Math.max(0, Math.max(this.#histogram.max, ...this.#seconds, 0) / 1e6 - RESOLUTION_MS);
  }

  stop(): void {
    clearInterval(this.#tick);
    this.#histogram.disable();
  }
}
