import type { Command } from 'commander';
import {
  type BenchInput,
  DEFAULT_BENCH_CONNECTIONS,
  DEFAULT_BENCH_DURATION_MS,
} from '../load-generator/options.ts';
import { parseTarget } from '../net/address.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { EXIT_INTERRUPTED, onStopSignals } from './interrupt.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { EXIT_FAILURE, EXIT_OK, reportError } from './run-command.ts';

interface BenchFlags extends Omit<BenchInput, 'service'> {
  time?: boolean;
  json?: boolean;
}

const HELP_AFTER = `
Each connection connects, reads to EOF and checks the reply (one CRLF line, or 4
bytes with --time); as one finishes the next starts, so --connections stay in
flight. Latency is connect to EOF. A connection that takes 1 s or more is
counted apart: that is what a SYN dropped on a full accept queue costs (the
client's first retransmission comes after 1 s). PORT is a number or a service
name from /etc/services. When nothing accepts a connection at all (a closed
port), the run stops at once with one line.

Connect paths (--connect):
  uring   io_uring on each worker thread: per connection a socket straight into
          a direct descriptor, a connect and a receive to EOF, linked, and one
          completion; the kernel is entered once per batch. Linux 5.19 or later
          where io_uring is allowed.
  libc    socket, non-blocking connect, epoll and read through libc (koffi) on
          each worker thread's own epoll instance: per connection only what a C
          load generator does. Linux.
  handle  Node's TCP handle for each connection, without a net.Socket (Node
          internals).
  socket  a net.Socket for each connection: Node's public API, runs anywhere.
  auto    the first of these that runs here; the result's connectPath says
          which.

Exit status: 0 when every connection succeeded, 1 when any failed or none could
connect, 2 for bad arguments, 130 when stopped by Ctrl-C (the partial table is
printed, marked interrupted).

Examples:
  daytime bench                       # localhost:${DEFAULT_PORT}, 64 connections, 10 s
  daytime bench :9999 -c 256 --workers 2 --duration 5
  daytime bench 127.0.0.1:3737 --time --count 100000 --json
`;

export function registerBench(program: Command): void {
  const command = program
    .command('bench')
    .summary('load a daytime or time server and measure it')
    .description(
      'Open connections to a daytime (or time) server as fast as it answers, and report rate and latency.',
    )
    .argument(
      '[target]',
      `HOST, HOST:PORT, :PORT or [IPV6]:PORT (default: localhost:${DEFAULT_PORT}, or :${DEFAULT_TIME_PORT} with --time)`,
    )
    .option('-c, --connections <n>', 'connections in flight', String(DEFAULT_BENCH_CONNECTIONS))
    .option('-d, --duration <seconds>', 'how long to run', String(DEFAULT_BENCH_DURATION_MS / 1000))
    .option('-n, --count <n>', 'run exactly this many connections instead of a duration')
    .option('-w, --workers <n>', 'worker threads, each with its own event loop', '1')
    .option('-t, --timeout <seconds>', 'give up on one connection after this long', '5')
    .option('--time', 'RFC 868 time: expect 4 bytes instead of a line')
    .option('--json', 'print the result as JSON on stdout (no table)')
    .option(
      '--connect <path>',
      'how connections are made: auto, uring, libc, handle or socket (see below)',
      'auto',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (target: string | undefined) => {
      process.exitCode = await bench(target, givenOptions<BenchFlags>(command));
    });
  refuseRepeatedOptions(command);
}

async function bench(target: string | undefined, flags: BenchFlags): Promise<number> {
  try {
    const { time, json, ...input } = flags;
    const defaults = { host: 'localhost', port: time ? DEFAULT_TIME_PORT : DEFAULT_PORT };
    const { host, port } = parseTarget(target, defaults);
    const options = { ...input, host, port, service: time ? 'time' : 'daytime' };
    // Loaded here, not at start-up: `daytime serve` should not carry the load generator in memory.
    const { runBench } = await import('../load-generator/run-bench.ts');
    const { formatBenchResult, formatProgress } = await import('../load-generator/format.ts');
    const stop = new AbortController();
    onStopSignals(() => stop.abort());
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
    if (result.interrupted) return EXIT_INTERRUPTED;
    return result.completed === result.ok && result.ok > 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return reportError('bench', error);
  }
}
