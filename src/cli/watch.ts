import type { Command } from 'commander';
import { portOption } from '../net/service-port.ts';
import { integerOption, secondsOption } from '../options/validate.ts';
import { onStopSignals } from './interrupt.ts';
import { givenOptions, refuseRepeatedOptions } from './options.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface WatchFlags {
  interval?: string;
  count?: string;
  json?: boolean;
}

const HELP_AFTER = `
For each socket listening on PORT (a number or a service name from
/etc/services): the accept-queue length and the backlog (ss Recv-Q and Send-Q;
from /proc/net/tcp without ss, which has the queue but not the backlog), and for
UDP sockets the bytes waiting against the receive buffer's size (SO_RCVBUF; each
datagram is charged its buffer's size, not its payload: 832 bytes for a small
one on Linux 6.18), the datagrams the socket dropped and how many a second.
Below, per-second rates of the kernel's TcpExtListenOverflows and
TcpExtListenDrops (a SYN or ACK dropped on a full accept queue) and
UdpRcvbufErrors. Those counters cover the whole network namespace, not only
this port. Ctrl-C stops it (exit 0).

Examples:
  daytime watch 9999
  daytime watch daytime               # port 13
  daytime watch 9999 --json --count 10 > queue.ndjson
`;

export function registerWatch(program: Command): void {
  const command = program
    .command('watch')
    .summary("watch a port's accept queue and the kernel's overflow counters")
    .description(
      "Show, once a second, every listening socket's queue and backlog on PORT and the overflow counters.",
    )
    .argument('<port>', 'the port to watch, any process (a number or a service name)')
    .option('-i, --interval <seconds>', 'time between samples', '1')
    .option('-n, --count <n>', 'stop after this many samples (default: until Ctrl-C)')
    .option('--json', 'one JSON object per sample (NDJSON) on stdout')
    .addHelpText('after', HELP_AFTER)
    .action(async (port: string) => {
      process.exitCode = await watch(port, givenOptions<WatchFlags>(command));
    });
  refuseRepeatedOptions(command);
}

async function watch(portText: string, flags: WatchFlags): Promise<number> {
  try {
    const port = portOption('port argument', portText);
    const intervalMs = secondsOption('interval', flags.interval ?? 1, { min: 0.05, max: 3600 });
    const count =
      flags.count === undefined ? undefined : integerOption('count', flags.count, { min: 1, max: 1e9 });
    const { watchQueue } = await import('../watch/watch-queue.ts');
    const { formatWatchSample } = await import('../watch/format.ts');
    const stop = new AbortController();
    onStopSignals(() => stop.abort());
    const live = process.stdout.isTTY && !flags.json;
    let drawn = 0;
    await watchQueue({
      port,
      intervalMs,
      count,
      signal: stop.signal,
      onSample: (sample) => {
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(sample)}\n`);
          return;
        }
        const text = formatWatchSample(sample);
        // On a terminal, redraw in place; otherwise append, so a log keeps every sample.
        if (live && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
        process.stdout.write(text);
        drawn = text.split('\n').length - 1;
      },
    });
    return EXIT_OK;
  } catch (error) {
    return reportError('watch', error);
  }
}
