import { parentPort, workerData } from 'node:worker_threads';
import { runLoop } from './connect/choose.ts';
import { emptyCounts, type LoopConfig } from './tally.ts';

// One bench thread: its own event loop running its share of the connections.
const { config, durationMs } = workerData as { config: LoopConfig; durationMs: number | undefined };
const stop = new AbortController();
parentPort?.on('message', (message: string) => {
  if (message === 'stop') stop.abort();
});
const counts = emptyCounts();
const progress = setInterval(() => parentPort?.postMessage({ type: 'progress', counts }), 250);
const deadline = durationMs === undefined ? undefined : performance.now() + durationMs;
const result = await runLoop({ ...config, deadline }, stop.signal, counts);
clearInterval(progress);
parentPort?.postMessage({ type: 'done', ...result });
