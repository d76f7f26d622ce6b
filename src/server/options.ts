import { InvalidOptionError } from '../errors.ts';
import { formatHostPort, type Target } from '../net/address.ts';
import { DEFAULT_PORT } from '../net/default-ports.ts';
import { type Identity, identityOf } from '../options/accounts.ts';
import { optionRules, optionValue } from '../options/declare.ts';
import { checkOptionRules } from '../options/rules.ts';
import { SERVE_OPTIONS } from '../options/serve.ts';
import { choiceOption, type NumberInput } from '../options/validate.ts';
import type { DaytimeFormat } from '../protocol/daytime.ts';
import { maxWaitingForHeaders } from '../tcp/accept/proxy-waiting.ts';
import { type AcceptPlan, PROXY_CHOICES } from '../tcp/accept/types.ts';
import type { UdpChoice } from '../udp/types.ts';

// The one definition of each is its declaration (options/serve.ts); these names are the library's API.
export { DEFAULT_PORT };
export const DEFAULT_BACKLOG = SERVE_OPTIONS.backlog.default;

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
  // primary (which keeps a copy, so that a worker's death does not close its queue), or this process's
  // own, bound before it dropped privileges (--user).
  tcpFds?: TcpFd[];
  // Bound UDP sockets to serve instead of binding them (with --udp), likewise.
  udpFds?: UdpFd[];
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

// A socket bound before the server starts (by the primary for a worker, or before --user's switch),
// the service it is for, and whether it was bound on every interface (for the start-up lines).
export interface TcpFd {
  service: 'daytime' | 'time';
  fd: number;
  allInterfaces?: boolean;
}

export interface UdpFd extends TcpFd {
  // The address family: the handle must match it, or every send fails (EINVAL).
  family: 4 | 6;
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
  udpFds: UdpFd[] | undefined;
  // The one accept decision (accept/types.ts): the path, and the PROXY requirement if any.
  accept: AcceptPlan;
  udpIo: UdpChoice;
}

const value = <K extends keyof typeof SERVE_OPTIONS & string, G extends NumberInput | undefined>(
  name: K,
  given: G,
) => optionValue(SERVE_OPTIONS, name, given);
// Every rule between serve's options, from their declarations: the UDP knobs need --udp (except under
// socket activation), the PROXY ones need each other.
const RULES = optionRules(SERVE_OPTIONS);

// The one place where server options are checked; it throws before any socket exists.
export function normalizeServerOptions(input: DaytimeServerInput = {}): DaytimeServerConfig {
  checkOptionRules(input, RULES);
  const port = value('port', input.port);
  const timePort = value('timePort', input.timePort);
  if (timePort !== undefined && timePort === port && port !== 0) {
    throw new InvalidOptionError('timePort', 'different from --port (one service per port)', input.timePort);
  }
  return {
    hosts: [input.host ?? []].flat().map((host) => value('host', host)),
    port,
    timePort,
    backlog: value('backlog', input.backlog),
    format: value('format', input.format),
    udp: Boolean(input.udp),
    udpRate: value('udpRate', input.udpRate),
    udpGlobalRate: value('udpGlobalRate', input.udpGlobalRate),
    maxConnections: value('maxConnections', input.maxConnections),
    writeTimeoutMs: value('writeTimeout', input.writeTimeout),
    drainTimeoutMs: value('drainTimeout', input.drainTimeout),
    listenFds: input.listenFds,
    reusePort: Boolean(input.reusePort),
    tcpFds: input.tcpFds,
    udpFds: input.udpFds,
    accept: acceptPlan(input),
    udpIo: value('udpIo', input.udpIo),
  };
}

// The accept decision, made here once: the path asked for (or auto), and with --proxy-protocol the
// header's timeout, how many may wait for one, and who may send one (the rules made sure it is there).
function acceptPlan(input: DaytimeServerInput): AcceptPlan {
  if (!input.proxyProtocol) return { path: value('accept', input.accept) };
  const over = choiceOption(
    'accept',
    input.accept ?? SERVE_OPTIONS.accept.default,
    PROXY_CHOICES,
    'with --proxy-protocol (the header is read first, which the handle path cannot do)',
  );
  return {
    path: 'proxy',
    over,
    proxy: {
      timeoutMs: value('proxyTimeout', input.proxyTimeout),
      maxWaiting: maxWaitingForHeaders(),
      trust: value('proxyFrom', input.proxyFrom ?? ''),
    },
  };
}

export interface ServeInput extends DaytimeServerInput {
  workers?: NumberInput;
  // [HOST:]PORT for the Prometheus endpoint; a port alone is every interface.
  metrics?: string;
  // Once every socket is bound, run as this user (a name or uid) and group (default: the user's own).
  user?: string;
  group?: string;
}

export interface ServeConfig extends DaytimeServerConfig {
  workers: number;
  metrics: Target | undefined;
  // Who to run as once every socket is bound (--user, --group); undefined: stay as started.
  identity: Identity | undefined;
}

// `daytime serve` as a whole: the server's options plus the process-level ones.
export function normalizeServeOptions(input: ServeInput = {}): ServeConfig {
  const config = normalizeServerOptions(input);
  const workers = value('workers', input.workers);
  if (workers > 1 && config.listenFds) {
    throw new InvalidOptionError(
      'workers',
      '1 under socket activation (the sockets come from systemd; run one instance per socket unit)',
      input.workers,
    );
  }
  const metrics = value('metrics', input.metrics);
  if (metrics && !config.listenFds) checkMetricsPort(metrics, config);
  const user = value('user', input.user);
  const identity = user && identityOf(user, value('group', input.group));
  return { ...config, workers, metrics, identity };
}

// The metrics listener on a port the service itself binds on the same address (or on every address)
// could never bind: bad input, said before anything is bound, as --time-port equal to --port is.
function checkMetricsPort(metrics: Target, config: DaytimeServerConfig): void {
  const taken = [config.port, config.timePort].includes(metrics.port) && metrics.port !== 0;
  // '' is every interface: `--metrics 9464` or `:9464`.
  const everywhere = (host: string) => host === '' || host === '0.0.0.0' || host === '::';
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
