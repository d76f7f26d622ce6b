import type { Command } from 'commander';
import { pino } from 'pino';
import { signalWhenParentExits } from '../kernel/parent-death.ts';
import { choiceOption } from '../options/validate.ts';
import { serveInetd } from '../process/inetd.ts';
import { runServe } from '../process/serve.ts';
import { WORKER_ENV } from '../process/worker-pool.ts';
import {
  DEFAULT_BACKLOG,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_PROXY_TIMEOUT_MS,
  DEFAULT_UDP_GLOBAL_RATE,
  DEFAULT_UDP_RATE,
  DEFAULT_WRITE_TIMEOUT_MS,
} from '../server/options.ts';
import { onStopSignals } from './interrupt.ts';
import { prettyDestination } from './pretty-log.ts';
import { EXIT_OK, reportError } from './run-command.ts';

interface ServeFlags {
  host?: string[];
  port: string;
  timePort?: string;
  udp?: boolean;
  backlog: string;
  format: string;
  quiet?: boolean;
  logFormat?: string;
  udpRate?: string;
  udpGlobalRate?: string;
  workers: string;
  maxConnections?: string;
  writeTimeout: string;
  drainTimeout: string;
  metrics?: string;
  accept: string;
  udpIo?: string;
  proxyProtocol?: boolean;
  proxyTimeout?: string;
  proxyFrom?: string;
  inetd?: string | true;
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
  uring   io_uring: the kernel accepts, sends and closes; the rings are read and
          written from JavaScript as memory, and the kernel is entered once per
          batch, not per connection. Linux 5.19 or later where io_uring is
          allowed (not with kernel.io_uring_disabled, nor under most container
          runtimes' default seccomp profile).
  libc    accept4, write and close through libc (koffi) in one loop per
          readiness of the listener: per connection only what a C server does.
          Linux.
  handle  Node's TCP handle for each connection, without a net.Socket (Node
          internals).
  socket  a net.Socket for each connection: Node's public API, the slowest,
          runs anywhere.
  auto    the first of these that runs here. The ready line, the stats and the
          metrics name the path, and why uring did not run where it cannot.
  With --proxy-protocol: libc (proxy-libc: one read of the header, then as
  libc), socket (proxy-socket), or auto; handle cannot read the header.

UDP (--udp, --udp-io):
  Every datagram, the empty one included, gets one reply, within --udp-rate per
  source address and --udp-global-rate in all; the rest are dropped and counted
  by reason. UDP has no backlog: datagrams wait in the socket's receive buffer,
  and when it is full the kernel drops them (UdpRcvbufErrors; \`daytime watch
  PORT\` shows the buffer and the drops a second).
  mmsg    recvmmsg and sendmmsg through libc (koffi): up to 64 datagrams and
          their sources per system call, at most 256 per readiness; under a
          flood it reads every 2 ms and leaves the rest to the kernel, so a
          flood cannot starve TCP. Linux.
  dgram   Node's dgram socket: a Buffer and a call into JavaScript per
          datagram. Runs anywhere.
  auto    the first of these that runs here; the ready line, the stats and the
          metrics name it.
  Don't raise the receive buffer against drops under a flood (see the README:
  what to tune).

Behind a balancer (--proxy-protocol --proxy-from CIDR,...):
  HAProxy's send-proxy / send-proxy-v2 put a header naming the client before
  anything else; with --proxy-protocol every TCP connection must start with one
  (v1 or v2), and only the addresses in --proxy-from may send it: anyone else is
  closed unread ("any" trusts everyone, on purpose). A v2 LOCAL header
  (HAProxy's health checks) is answered as a direct connection. A connection
  whose header is missing, malformed or later than --proxy-timeout is closed
  without a reply, counted by reason and logged at most once a second; at most
  half the descriptor limit may wait for a header at once (the longest waiting
  is closed first, and makes room for a whole header over --max-connections).
  The accept path reads the header with one read(2) (libc) or a net.Socket
  (socket). See deploy/haproxy/ and "Running a fleet" in the README.

Socket activation:
  Started by systemd with LISTEN_FDS, it serves the sockets it was given (TCP
  and UDP; a socket whose FileDescriptorName= is "time" serves RFC 868) and
  keeps the unit's Backlog=. See deploy/.

Examples:
  daytime serve                       # port 9999, all interfaces
  daytime serve --host 127.0.0.1 --port 1313 --backlog 5
  daytime serve --time-port 3737 --udp --metrics 127.0.0.1:9464
  daytime serve --workers 2 --quiet --log-format json
  daytime serve --host 127.0.0.1 --host ::1   # one listener per address
  socat TCP-LISTEN:1313,fork,reuseaddr EXEC:'daytime serve --inetd'
                                      # inetd style: a process a connection
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
    .option(
      '--host <host>',
      'address or name to bind; repeat for several (default: all interfaces, IPv6 and IPv4)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
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
      'UDP replies a second to one source address (burst: twice that), per worker',
      String(DEFAULT_UDP_RATE),
    )
    .option(
      '--udp-global-rate <n>',
      'UDP replies a second in all, per worker',
      String(DEFAULT_UDP_GLOBAL_RATE),
    )
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
      'how connections are taken: auto, uring, libc, handle or socket (see "Accept paths" below)',
      'auto',
    )
    .option('--udp-io <path>', 'how UDP datagrams are read: auto, mmsg or dgram (see "UDP" below)', 'auto')
    .option(
      '--proxy-protocol',
      'require a PROXY protocol header (v1 or v2, as HAProxy sends) on TCP before replying; logs name the client',
    )
    .option(
      '--proxy-from <cidr,...>',
      'with --proxy-protocol, the balancers allowed to send the header (10.0.0.0/8,2001:db8::1), or any',
    )
    .option(
      '--proxy-timeout <seconds>',
      `with --proxy-protocol, close a connection without a reply if its header takes longer (default: ${seconds(DEFAULT_PROXY_TIMEOUT_MS)})`,
    )
    .option(
      '--inetd [service]',
      'serve the one connection on standard input (inetd nowait, socat EXEC:): daytime or time',
    )
    .option('-q, --quiet', 'no log line per connection')
    .option('--log-format <format>', 'pretty or json (default: pretty on a TTY, JSON lines otherwise)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: ServeFlags, command: Command) => {
      if (flags.inetd !== undefined) {
        process.exitCode = inetd(flags, command);
        return;
      }
      // UDP's flags mean nothing without --udp: only the ones typed are passed on, so the one rule can
      // tell a default from a choice (options.ts: UDP_RULES).
      const typed = (name: string) => command.getOptionValueSource(name) === 'cli';
      const udpFlags = {
        udpRate: typed('udpRate') ? flags.udpRate : undefined,
        udpGlobalRate: typed('udpGlobalRate') ? flags.udpGlobalRate : undefined,
        udpIo: typed('udpIo') ? flags.udpIo : undefined,
      };
      process.exitCode = await serve({ ...flags, ...udpFlags });
    });
}

// Under inetd nothing is logged: standard output is the client, and so is standard error under inetd
// itself. A failure still gets its line on stderr (the client, if anyone, sees it) and exit status.
function inetd(flags: ServeFlags, command: Command): number {
  try {
    const given = command.options
      .map((o) => o.attributeName())
      .filter((name) => command.getOptionValueSource(name) === 'cli');
    serveInetd({ service: flags.inetd === true ? undefined : flags.inetd, format: flags.format }, given);
    return EXIT_OK;
  } catch (error) {
    return reportError('serve', error);
  }
}

// The parent when the process started: one that is gone by the time the check is armed is noticed.
const parent = process.ppid;

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
    // Under npm (`npx daytime serve &`, `npm start`) the bin runs below npm's `sh -c`; when that shell
    // goes (npm killed, `kill %1`), the server drains and stops instead of running on as an orphan.
    // (A worker has its primary for a parent and follows it on its own.)
    if (process.env.npm_lifecycle_event && !process.env[WORKER_ENV])
      await signalWhenParentExits('SIGTERM', parent);
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
