// A client that scrapes GET /metrics at a fixed pace and times each answer from its side: from the call
// of http.get to the end of the body, so connecting, waiting for the server's loop, collecting and the
// way back are all in it. One request at a time, as Prometheus sends them.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScrapeTimes {
  // Milliseconds per scrape, in order; a failed or timed-out one counts as `timeoutMs`.
  ms: number[];
  failed: number;
}

export class MetricsScraper {
  readonly #agent: http.Agent;
  readonly #timeoutMs: number;

  // keepAlive: one connection for every scrape (what Prometheus does), or a new one for each.
  constructor(keepAlive: boolean, timeoutMs = 2000) {
    this.#agent = new http.Agent({ keepAlive, maxSockets: 1 });
    this.#timeoutMs = timeoutMs;
  }

  // One scrape: its time in ms, or undefined when it failed or took longer than the timeout.
  once(port: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const start = performance.now();
      const request = http.get(
        { host: '127.0.0.1', port, path: '/metrics', agent: this.#agent },
        (response) => {
          response.resume();
          response.once('end', () =>
            resolve(response.statusCode === 200 ? performance.now() - start : undefined),
          );
          response.once('error', () => resolve(undefined));
        },
      );
      request.setTimeout(this.#timeoutMs, () => request.destroy());
      request.once('error', () => resolve(undefined));
    });
  }

  // Scrapes every `intervalMs` (from the start of one to the start of the next, or at once when one
  // took longer) until `until` settles or `maxMs` pass, whichever comes first.
  async until(
    port: number,
    intervalMs: number,
    until: Promise<unknown>,
    maxMs: number,
  ): Promise<ScrapeTimes> {
    let done = false;
    until.then(
      () => (done = true),
      () => (done = true),
    );
    const times: ScrapeTimes = { ms: [], failed: 0 };
    const end = performance.now() + maxMs;
    while (!done && performance.now() < end) {
      const start = performance.now();
      const ms = await this.once(port);
      if (ms === undefined) times.failed++;
      times.ms.push(ms ?? this.#timeoutMs);
      await sleep(Math.max(0, start + intervalMs - performance.now()));
    }
    return times;
  }

  // Scrapes for `ms` at the same pace (an idle server, for the reference figures).
  during(port: number, intervalMs: number, ms: number): Promise<ScrapeTimes> {
    return this.until(port, intervalMs, sleep(ms), ms);
  }

  close(): void {
    this.#agent.destroy();
  }
}
