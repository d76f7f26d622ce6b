import type { Command } from 'commander';
import type { BenchInput } from '../load-generator/options.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { BENCH_COMMAND } from './commands/bench.ts';
import { declareCommand } from './declared-command.ts';
import { exitStatusFor, onStopSignals, STOP_SIGNALS } from './interrupt.ts';
import { EXIT_FAILURE, EXIT_OK } from './run-command.ts';
import { clientTarget } from './target.ts';

interface BenchFlags extends Omit<BenchInput, 'service'> {
  time?: boolean;
  json?: boolean;
}

export function registerBench(program: Command): void {
  declareCommand(program, BENCH_COMMAND, ([target, port], options) =>
    bench(target, port, options as BenchFlags),
  );
}

async function bench(
  target: string | undefined,
  portText: string | undefined,
  flags: BenchFlags,
): Promise<number> {
  const { time, json, ...input } = flags;
  const defaults = { host: 'localhost', port: time ? DEFAULT_TIME_PORT : DEFAULT_PORT };
  const { host, port } = clientTarget(target, portText, defaults);
  const options = { ...input, host, port, service: time ? 'time' : 'daytime' };
  // Taken before anything loads: SIGTERM and SIGHUP stop a run as Ctrl-C does, the connections in
  // flight given up and the partial result printed.
  const stop = new AbortController();
  onStopSignals((signal) => stop.abort(signal), STOP_SIGNALS);
  // Loaded here, not at start-up: `daytime serve` should not carry the load generator in memory.
  const { runBench } = await import('../load-generator/run-bench.ts');
  const { formatBenchResult, formatProgress } = await import('../load-generator/format.ts');
  const tty = process.stderr.isTTY && !json;
  const result = await runBench({
    ...options,
    signal: stop.signal,
    onProgress: tty ? (p) => process.stderr.write(`\r${formatProgress(p)}\x1b[K`) : undefined,
  }).finally(() => {
    if (tty) process.stderr.write('\r\x1b[K');
  });
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stderr.write(formatBenchResult(result));
  // Only the signal cuts a run short.
  if (result.interrupted) return exitStatusFor(stop.signal.reason);
  return result.completed === result.ok && result.ok > 0 ? EXIT_OK : EXIT_FAILURE;
}
