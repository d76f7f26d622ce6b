// Runs inside the fleet's client namespace (`ip netns exec ... node load-agent.js`): continuous load
// on the balancer with daytime bench's engine, one NDJSON progress line every 100 ms on stdout and a
// result line at the end. SIGTERM or SIGINT ends the load early (the result still comes).
//   node load-agent.js HOST PORT CONNECTIONS SECONDS|count:N
import { runBench } from '../load-generator/run-bench.ts';

const [host = '', port = '', connections = '32', amount = '60'] = process.argv.slice(2);
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
const started = performance.now();
const write = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);
const result = await runBench({
  host,
  port,
  connections,
  ...(amount.startsWith('count:') ? { count: amount.slice(6) } : { duration: amount }),
  timeout: 15,
  workers: 1,
  signal: stop.signal,
  progressIntervalMs: 100,
  onProgress: (p) =>
    write({ type: 'progress', t: Math.round(performance.now() - started), ok: p.ok, errors: p.errors }),
});
write({ type: 'result', t: Math.round(performance.now() - started), result });
