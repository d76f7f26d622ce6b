import type { Command } from 'commander';
import { pino } from 'pino';
import { choiceOption } from '../options/validate.ts';
import { createDaytimeServer } from '../server/daytime-server.ts';
import { DEFAULT_BACKLOG, DEFAULT_PORT } from '../server/options.ts';
import { prettyDestination } from './pretty-log.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface ServeFlags {
  host?: string;
  port: string;
  backlog: string;
  format: string;
  quiet?: boolean;
  logFormat?: string;
}

const HELP_AFTER = `
The backlog:
  The kernel completes TCP handshakes on its own and queues the connections until the server calls
  accept(). --backlog bounds that queue. Linux holds backlog + 1 connections, clamps the backlog to
  net.core.somaxconn (4096 by default) and, when the queue is full, silently drops new SYNs: clients
  are delayed by SYN retransmits (about 1, 2, 4 s), not refused. A backlog of 0 cannot be passed
  through Node (it becomes 511); \`daytime lab\` measures what 0, 1, 5 and more really do.

Examples:
  daytime serve                       # the classic service on port 9999, all interfaces
  daytime serve --host 127.0.0.1 --port 1313 --backlog 5
  daytime serve --format iso --log-format json --quiet
  ss -ltn 'sport = :9999'             # Send-Q is the backlog the kernel uses, Recv-Q the queue now
`;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('run the RFC 867 daytime server')
    .description('Serve RFC 867 daytime over TCP: each connection gets one line with the time, then EOF.')
    .option('--host <host>', 'address or name to bind (default: all interfaces, IPv6 and IPv4)')
    .option('-p, --port <port>', 'TCP port, 0 for any free one', String(DEFAULT_PORT))
    .option(
      '-b, --backlog <n>',
      'listen() backlog, 1..65535; Linux queues backlog + 1',
      String(DEFAULT_BACKLOG),
    )
    .option('-f, --format <format>', 'ctime (like Python time.ctime()), iso (RFC 3339) or rfc2822', 'ctime')
    .option('-q, --quiet', 'no log line per connection')
    .option('--log-format <format>', 'pretty or json (default: pretty on a TTY, JSON lines otherwise)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: ServeFlags) => {
      process.exitCode = await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<number> {
  try {
    const logFormat = choiceOption(
      'logFormat',
      flags.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
      ['pretty', 'json'] as const,
    );
    const logger = logFormat === 'json' ? pino() : pino({}, prettyDestination());
    const server = createDaytimeServer({
      host: flags.host,
      port: flags.port,
      backlog: flags.backlog,
      format: flags.format,
      logger,
      logConnections: !flags.quiet,
    });
    // Handlers first: a signal that arrives while listening is still in progress must not kill the process.
    const stopped = waitForStopSignal(logger);
    await server.listen();
    await stopped;
    await server.close();
    return EXIT_OK;
  } catch (error) {
    return reportError('serve', error);
  }
}

// Resolves on the first SIGINT or SIGTERM; a second one ends the process at once.
function waitForStopSignal(logger: pino.Logger): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, `${signal} received, closing`);
      process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
