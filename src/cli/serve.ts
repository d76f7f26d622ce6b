import type { Command } from 'commander';
import { pino } from 'pino';
import { choiceOption } from '../options/validate.ts';
import {
  DEFAULT_BACKLOG,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_PROXY_TIMEOUT_MS,
  DEFAULT_UDP_GLOBAL_RATE,
  DEFAULT_UDP_RATE,
  DEFAULT_WRITE_TIMEOUT_MS,
} from '../server/options.ts';
import { runServe } from '../server/serve.ts';
import { onStopSignals } from './interrupt.ts';
import { prettyDestination } from './pretty-log.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface ServeFlags {
  host?: string;
  port: string;
  timePort?: string;
  udp?: boolean;
  backlog: string;
  format: string;
  quiet?: boolean;
  logFormat?: string;
  udpRate: string;
  udpGlobalRate: string;
  workers: string;
  maxConnections?: string;
  writeTimeout: string;
  drainTimeout: string;
  metrics?: string;
  accept: string;
  proxyProtocol?: boolean;
  proxyTimeout: string;
}

const HELP_AFTER = `
The backlog:
  The kernel completes TCP handshakes on its own and queues the connections
  until the server calls accept(). --backlog bounds that queue. Linux holds
  backlog + 1 connections, clamps the backlog to net.core.somaxconn (4096 by
  default) and, when the queue is full, silently drops new SYNs: clients are
  delayed by SYN retransmits (about 1, 2, 4 s), not refused. A backlog of 0
  cannot be passed through Node (it becomes 511); \`daytime lab\` measures what
  0, 1, 5 and more really do. With --workers N each worker has its own listener
  and accept queue: the backlog applies per worker. UDP has no backlog;
  datagrams wait in the socket's receive buffer.

Accept paths (--accept):
  libc    accept4, write and close through libc (koffi) in one loop per
          readiness of the listener: per connection only what a C server does.
          Linux.
  handle  Node's TCP handle for each connection, without a net.Socket (Node
          internals).
  socket  a net.Socket for each connection: Node's public API, the slowest,
          runs anywhere.
  auto    the first of these that runs here. The ready line, the stats and the
          metrics name the path.

Behind a balancer (--proxy-protocol):
  HAProxy's send-proxy / send-proxy-v2 put a header naming the client before
  anything else; with --proxy-protocol every TCP connection must start with one
  (v1 or v2). A v2 LOCAL header (HAProxy's health checks) is answered as a
  direct connection. A connection whose header is missing, malformed or later
  than --proxy-timeout is closed without a reply and counted by reason; at most
  half the descriptor limit may wait for a header at once (the longest waiting
  is closed first). See deploy/haproxy/ and "Running a fleet" in the README.

Socket activation:
  Started by systemd with LISTEN_FDS, it serves the sockets it was given (TCP
  and UDP; a socket whose FileDescriptorName= is "time" serves RFC 868) and
  keeps the unit's Backlog=. See deploy/.

Examples:
  daytime serve                       # port 9999, all interfaces
  daytime serve --host 127.0.0.1 --port 1313 --backlog 5
  daytime serve --time-port 3737 --udp --metrics 127.0.0.1:9464
  daytime serve --workers 2 --quiet --log-format json
  ss -ltn 'sport = :9999'             # Send-Q: the backlog; Recv-Q: queued now
`;

const seconds = (ms: number) => String(ms / 1000);

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('run the RFC 867 daytime (and RFC 868 time) server')
    .description(
      'Serve RFC 867 daytime over TCP: each connection gets one line with the time, then EOF. ' +
        'Optionally RFC 868 time (4 bytes, seconds since 1900) and both over UDP.',
    )
    .option('--host <host>', 'address or name to bind (default: all interfaces, IPv6 and IPv4)')
    .option('-p, --port <port>', 'daytime (RFC 867) port, 0 for any free one', String(DEFAULT_PORT))
    .option('--time-port <port>', 'also serve time (RFC 868) on this port (default: off)')
    .option('--udp', 'also serve each enabled service over UDP on the same port number')
    .option(
      '-b, --backlog <n>',
      'listen() backlog, 1..65535; Linux queues backlog + 1',
      String(DEFAULT_BACKLOG),
    )
    .option('-f, --format <format>', 'ctime (like Python time.ctime()), iso (RFC 3339) or rfc2822', 'ctime')
    .option(
      '--udp-rate <n>',
      'UDP replies a second to one source address (burst: twice that)',
      String(DEFAULT_UDP_RATE),
    )
    .option('--udp-global-rate <n>', 'UDP replies a second in all', String(DEFAULT_UDP_GLOBAL_RATE))
    .option('-w, --workers <n>', 'processes sharing the port with SO_REUSEPORT', '1')
    .option(
      '--max-connections <n>',
      'above this many open connections, close new ones at once (default: no limit)',
    )
    .option(
      '--write-timeout <seconds>',
      'destroy a connection whose reply is still unwritten this long after accept',
      seconds(DEFAULT_WRITE_TIMEOUT_MS),
    )
    .option(
      '--drain-timeout <seconds>',
      'on SIGTERM, time to serve the clients already connected or queued',
      seconds(DEFAULT_DRAIN_TIMEOUT_MS),
    )
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics')
    .option(
      '--accept <path>',
      'how connections are taken: auto, libc, handle or socket (see "Accept paths" below)',
      'auto',
    )
    .option(
      '--proxy-protocol',
      'require a PROXY protocol header (v1 or v2, as HAProxy sends) on TCP before replying; logs name the client',
    )
    .option(
      '--proxy-timeout <seconds>',
      'with --proxy-protocol, close a connection without a reply if its header takes longer',
      seconds(DEFAULT_PROXY_TIMEOUT_MS),
    )
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
    // Handlers first: a signal that arrives while listening is still in progress must not kill the process.
    const stop = new AbortController();
    onStopSignal(logger, stop);
    const { quiet, logFormat: _logFormat, ...options } = flags;
    await runServe({
      ...options,
      logger,
      logConnections: !quiet,
      signal: stop.signal,
      workerCommand: { modulePath: process.argv[1] ?? '', args: process.argv.slice(2) },
    });
    return EXIT_OK;
  } catch (error) {
    return reportError('serve', error);
  }
}

// The first SIGINT or SIGTERM drains and stops; a second one ends the process at once (the same
// Ctrl-C forwarded by npm is not a second one: cli/interrupt.ts).
function onStopSignal(logger: pino.Logger, stop: AbortController): void {
  onStopSignals(
    (signal) => {
      logger.info({ signal }, `${signal} received, draining`);
      stop.abort();
    },
    ['SIGINT', 'SIGTERM'],
  );
}
