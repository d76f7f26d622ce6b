import { InvalidOptionError } from '../errors.ts';
import { formatHostPort, parseTarget, type Target } from '../net/address.ts';
import { parseTrustList } from '../net/cidr.ts';
import { DEFAULT_PORT } from '../net/default-ports.ts';
import { portOption } from '../net/service-port.ts';
import { checkOptionRules, type OptionRule } from '../options/rules.ts';
import {
  choiceOption,
  hostOption,
  integerOption,
  type NumberInput,
  secondsOption,
} from '../options/validate.ts';
import { DAYTIME_FORMATS, type DaytimeFormat } from '../protocol/daytime.ts';
import { maxWaitingForHeaders } from '../tcp/accept/proxy-waiting.ts';
import { ACCEPT_CHOICES, type AcceptPlan, PROXY_CHOICES } from '../tcp/accept/types.ts';
import { UDP_CHOICES, type UdpChoice } from '../udp/types.ts';

// The one definition is net/default-ports.ts; re-exported for the server's other defaults' readers.
export { DEFAULT_PORT };
// Node's, nginx's, Redis's and Apache's default: large enough that a burst waits in the kernel, not in SYN retries.
export const DEFAULT_BACKLOG = 511;
export const DEFAULT_UDP_RATE = 10;
export const DEFAULT_UDP_GLOBAL_RATE = 1000;
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;
export const DEFAULT_PROXY_TIMEOUT_MS = 3_000;

// A descriptor handed over by systemd socket activation; FileDescriptorName=time selects RFC 868.
export interface ListenFd {
  fd: number;
  name?: string;
}

export interface DaytimeServerInput {
  // Addresses or names to bind, one listener each (per service and transport). Undefined or empty: every
  // interface, IPv6 and IPv4 where the system has both.
  host?: string | string[];
  // RFC 867 daytime.
  port?: NumberInput;
  // RFC 868 time; off unless given.
  timePort?: NumberInput;
  // Also serve each enabled service over UDP on the same port number.
  udp?: boolean;
  backlog?: NumberInput;
  format?: string;
  // UDP replies a second to one source address, and in all.
  udpRate?: NumberInput;
  udpGlobalRate?: NumberInput;
  // Above this many open connections, new ones are closed at once (and counted).
  maxConnections?: NumberInput;
  // Seconds a connection may stay open after it is accepted; a peer that never reads or never
  // closes is cut off then.
  writeTimeout?: NumberInput;
  // Seconds SIGTERM may take to serve the clients already connected or queued.
  drainTimeout?: NumberInput;
  // Serve on these inherited descriptors instead of binding host and ports.
  listenFds?: ListenFd[];
  // SO_REUSEPORT, so several processes can listen on one port, each with its own accept queue.
  reusePort?: boolean;
  // Listening TCP sockets to serve instead of binding --port and --time-port: a worker's, bound by its
  // primary (which keeps a copy, so that a worker's death does not close its queue).
  tcpFds?: TcpFd[];
  // How accepted TCP connections are taken: auto (default: the fastest that runs here), uring, libc,
  // handle or socket (accept/choose.ts).
  accept?: string;
  // How UDP datagrams are read and answered: auto (default), mmsg or dgram (accept/choose.ts).
  udpIo?: string;
  // Require a PROXY protocol header (v1 or v2) on every TCP connection before replying.
  proxyProtocol?: boolean;
  // Seconds a connection may take to send that header.
  proxyTimeout?: NumberInput;
  // The balancers allowed to send it: "10.0.0.0/8,2001:db8::/32", or "any".
  proxyFrom?: string;
}

// A listening TCP socket a worker inherits from its primary, and the service it is for.
export interface TcpFd {
  service: 'daytime' | 'time';
  fd: number;
}

export interface DaytimeServerConfig {
  // Empty: every interface.
  hosts: string[];
  port: number;
  timePort: number | undefined;
  udp: boolean;
  backlog: number;
  format: DaytimeFormat;
  udpRate: number;
  udpGlobalRate: number;
  maxConnections: number | undefined;
  writeTimeoutMs: number;
  drainTimeoutMs: number;
  listenFds: ListenFd[] | undefined;
  reusePort: boolean;
  tcpFds: TcpFd[] | undefined;
  // The one accept decision (accept/types.ts): the path, and the PROXY requirement if any.
  accept: AcceptPlan;
  udpIo: UdpChoice;
}

const explainBacklogZero = (n: number) =>
  n === 0
    ? 'Node turns a backlog of 0 into 511 (`backlog || 511` in lib/net.js), so 0 cannot mean what the kernel ' +
      'makes of it (one queued connection on Linux). `daytime lab` measures backlog 0 with a raw listener'
    : undefined;

// The one place where server options are checked; it throws before any socket exists.
export function normalizeServerOptions(input: DaytimeServerInput = {}): DaytimeServerConfig {
  // A number or a service name from /etc/services (`--port daytime` is 13), as for every port flag.
  const port = portOption('port', input.port ?? DEFAULT_PORT, { min: 0 });
  const timePort =
    input.timePort === undefined ? undefined : portOption('timePort', input.timePort, { min: 0 });
  if (timePort !== undefined && timePort === port && port !== 0) {
    throw new InvalidOptionError('timePort', 'different from --port (one service per port)', input.timePort);
  }
  return {
    hosts: [input.host ?? []].flat().map((host) => hostOption('host', host)),
    port,
    timePort,
    backlog: integerOption('backlog', input.backlog ?? DEFAULT_BACKLOG, {
      min: 1,
      max: 65535,
      hint: explainBacklogZero,
    }),
    format: choiceOption('format', input.format ?? 'ctime', DAYTIME_FORMATS),
    udp: checkUdpFlags(input),
    udpRate: integerOption('udpRate', input.udpRate ?? DEFAULT_UDP_RATE, { min: 1, max: 1_000_000 }),
    udpGlobalRate: integerOption('udpGlobalRate', input.udpGlobalRate ?? DEFAULT_UDP_GLOBAL_RATE, {
      min: 1,
      max: 10_000_000,
    }),
    maxConnections:
      input.maxConnections === undefined
        ? undefined
        : integerOption('maxConnections', input.maxConnections, { min: 1, max: 10_000_000 }),
    writeTimeoutMs:
      input.writeTimeout === undefined
        ? DEFAULT_WRITE_TIMEOUT_MS
        : secondsOption('writeTimeout', input.writeTimeout, { min: 0.001, max: 3600 }),
    drainTimeoutMs:
      input.drainTimeout === undefined
        ? DEFAULT_DRAIN_TIMEOUT_MS
        : secondsOption('drainTimeout', input.drainTimeout, { min: 0, max: 3600 }),
    listenFds: input.listenFds,
    reusePort: Boolean(input.reusePort),
    tcpFds: input.tcpFds,
    accept: acceptPlan(input),
    udpIo: choiceOption('udpIo', input.udpIo ?? 'auto', UDP_CHOICES),
  };
}

// The accept decision, made here once: the path asked for (or auto), and with --proxy-protocol the
// header's timeout, how many may wait for one, and who may send one. A PROXY option without
// --proxy-protocol, or --proxy-protocol without --proxy-from, is bad input naming both flags.
// The UDP knobs apply to UDP sockets: those --udp binds, or those socket activation hands over.
const UDP_RULES: readonly OptionRule[] = (['udpRate', 'udpGlobalRate', 'udpIo'] as const).map((option) => ({
  requires: [option, 'udp'] as const,
  reason: 'it applies to the UDP sockets that only --udp binds',
}));
function checkUdpFlags(input: DaytimeServerInput): boolean {
  if (!input.listenFds) checkOptionRules(input, UDP_RULES);
  return Boolean(input.udp);
}

const PROXY_RULES: readonly OptionRule[] = [
  {
    requires: ['proxyProtocol', 'proxyFrom'],
    reason:
      'the balancers allowed to send the header (10.0.0.0/8,...), or "any" to trust everyone; ' +
      'without it anyone who reaches the port could claim any client address',
  },
  {
    requires: ['proxyFrom', 'proxyProtocol'],
    reason: 'it lists who may send the header only that flag reads',
  },
  {
    requires: ['proxyTimeout', 'proxyProtocol'],
    reason: 'it bounds the wait for the header only that flag reads',
  },
];

function acceptPlan(input: DaytimeServerInput): AcceptPlan {
  checkOptionRules(input, PROXY_RULES);
  if (!input.proxyProtocol) {
    return { path: choiceOption('accept', input.accept ?? 'auto', ACCEPT_CHOICES) };
  }
  const over = choiceOption(
    'accept',
    input.accept ?? 'auto',
    PROXY_CHOICES,
    'with --proxy-protocol (the header is read first, which the handle path cannot do)',
  );
  return {
    path: 'proxy',
    over,
    proxy: {
      timeoutMs:
        input.proxyTimeout === undefined
          ? DEFAULT_PROXY_TIMEOUT_MS
          : secondsOption('proxyTimeout', input.proxyTimeout, { min: 0.001, max: 3600 }),
      maxWaiting: maxWaitingForHeaders(),
      // checkOptionRules made sure it is there.
      trust: parseTrustList(input.proxyFrom ?? ''),
    },
  };
}

export interface ServeInput extends DaytimeServerInput {
  workers?: NumberInput;
  // HOST:PORT for the Prometheus endpoint.
  metrics?: string;
}

export interface ServeConfig extends DaytimeServerConfig {
  workers: number;
  metrics: Target | undefined;
}

// `daytime serve` as a whole: the server's options plus the process-level ones.
export function normalizeServeOptions(input: ServeInput = {}): ServeConfig {
  const config = normalizeServerOptions(input);
  const workers = integerOption('workers', input.workers ?? 1, { min: 1, max: 256 });
  if (workers > 1 && config.listenFds) {
    throw new InvalidOptionError(
      'workers',
      '1 under socket activation (the sockets come from systemd; run one instance per socket unit)',
      input.workers,
    );
  }
  const metrics = input.metrics === undefined ? undefined : metricsOption(input.metrics);
  if (metrics && !config.listenFds) checkMetricsPort(metrics, config);
  return { ...config, workers, metrics };
}

// The metrics listener on a port the service itself binds on the same address (or on every address)
// could never bind: bad input, said before anything is bound, as --time-port equal to --port is.
function checkMetricsPort(metrics: Target, config: DaytimeServerConfig): void {
  const taken = [config.port, config.timePort].includes(metrics.port) && metrics.port !== 0;
  const everywhere = (host: string) => host === '0.0.0.0' || host === '::';
  const sameAddress =
    config.hosts.length === 0 ||
    everywhere(metrics.host) ||
    config.hosts.some((host) => host === metrics.host || everywhere(host));
  if (taken && sameAddress) {
    const which = metrics.port === config.port ? '--port' : '--time-port';
    throw new InvalidOptionError(
      'metrics',
      `on a port of its own, not ${which}'s`,
      formatHostPort(metrics.host, metrics.port),
    );
  }
}

// HOST:PORT, both given: a bare port would otherwise be read as a host (and bound on 0.0.36.248).
function metricsOption(text: string): Target {
  const expected = 'HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464)';
  const target = parseTarget(text, { host: '', port: 0 }, '--metrics');
  if (!target.host || !target.port) throw new InvalidOptionError('metrics', expected, text);
  if (/^\d+$/.test(target.host))
    throw new InvalidOptionError('metrics', expected, text, 'A bare number is a port, not a host');
  return { host: hostOption('metrics', target.host), port: target.port };
}
