// Run inside the fault matrix's namespace: node scraper.ts PORT INTERVAL_MS SECONDS. Scrapes
// http://127.0.0.1:PORT/metrics every INTERVAL_MS for SECONDS, as Prometheus would (one request at a
// time, each with a 1 s timeout), and prints one JSON document with every scrape.
import { parseSamples } from './prometheus-text.ts';

const [port, interval, seconds] = process.argv.slice(2).map(Number);

export interface Scrape {
  // When it was sent (ms since the epoch), how long the answer took, and its status (0: none).
  at: number;
  ms: number;
  status: number;
  totals: Record<string, number>;
  up: Record<string, number>;
  loopDelayMax: number;
}

// One scrape first, not recorded: the first fetch() of a process loads and compiles undici (100 ms
// and more on a busy machine), which is the scraper's cost, not the server's.
await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) })
  .then((response) => response.text())
  .catch(() => undefined);
const scrapes: Scrape[] = [];
const end = Date.now() + (seconds ?? 10) * 1000;
while (Date.now() < end) {
  const at = Date.now();
  const scrape: Scrape = { at, ms: 0, status: 0, totals: {}, up: {}, loopDelayMax: 0 };
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
    const body = await response.text();
    scrape.status = response.status;
    for (const { name, labels, series, value } of parseSamples(body)) {
      if (name.endsWith('_total') && name.startsWith('daytime_')) scrape.totals[series] = value;
      if (name === 'daytime_worker_up') scrape.up[labels.worker ?? ''] = value;
      if (name === 'daytime_event_loop_delay_max_seconds')
        scrape.loopDelayMax = Math.max(scrape.loopDelayMax, value);
    }
  } catch {
    // No answer within the second: status 0.
  }
  scrape.ms = Date.now() - at;
  scrapes.push(scrape);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, (interval ?? 100) - scrape.ms)));
}
process.stdout.write(`${JSON.stringify(scrapes)}\n`);
