import { InvalidOptionError } from '../errors.ts';
import { parseTarget, type Target } from '../net/address.ts';
import { parseTrustList } from '../net/cidr.ts';
import { DEFAULT_PORT } from '../net/default-ports.ts';
import { portOption } from '../net/service-port.ts';
import { DAYTIME_FORMATS } from '../protocol/daytime.ts';
import { SERVICES } from '../protocol/replies.ts';
import { ACCEPT_CHOICES } from '../tcp/accept/types.ts';
import { UDP_CHOICES } from '../udp/types.ts';
import { groupOption, userOption } from './accounts.ts';
import type { OptionTable } from './declare.ts';
import { choiceOption, hostOption, integerOption, type NumberInput, secondsOption } from './validate.ts';

const BACKLOG = { min: 1, max: 65535 };
const explainBacklogZero = (n: number) =>
  n === 0
    ? 'Node turns a backlog of 0 into 511 (`backlog || 511` in lib/net.js), so 0 cannot mean what the kernel ' +
      'makes of it (one queued connection on Linux). `daytime lab` measures backlog 0 with a raw listener'
    : undefined;

// UDP's knobs apply to the UDP sockets: those --udp binds, or those socket activation hands over.
const needsUdp = {
  option: 'udp',
  reason: 'it applies to the UDP sockets that only --udp binds',
  unless: 'listenFds',
} as const;

const text = (value: NumberInput) => String(value);
const seconds = (min: number) => (name: string, value: NumberInput) =>
  secondsOption(name, value, { min, max: 3600 });
const integer = (min: number, max: number) => (name: string, value: NumberInput) =>
  integerOption(name, value, { min, max });

// Every option of `daytime serve`, in the order --help lists them. The library (server/options.ts,
// process/inetd.ts) takes its defaults, checks and rules from here; so do the CLI, the environment
// (DAYTIME_PORT...), the man page and the completion scripts.
export const SERVE_OPTIONS = {
  host: {
    arg: '<host>',
    help: 'address or name to bind; repeat for several',
    defaultText: 'all interfaces, IPv6 and IPv4',
    repeatable: true,
    complete: 'host',
    parse: (name, value) => hostOption(name, text(value)),
  },
  port: {
    short: 'p',
    arg: '<port>',
    help: 'daytime (RFC 867) port, 0 for any free one',
    default: DEFAULT_PORT,
    // A number or a service name from /etc/services (`--port daytime` is 13), as for every port flag.
    parse: (name, value) => portOption(name, value, { min: 0 }),
  },
  timePort: {
    arg: '<port>',
    help: 'also serve time (RFC 868) on this port',
    defaultText: 'off',
    parse: (name, value) => portOption(name, value, { min: 0 }),
  },
  udp: { help: 'also serve each enabled service over UDP on the same port number' },
  backlog: {
    short: 'b',
    arg: '<n>',
    help: `listen() backlog, ${BACKLOG.min}..${BACKLOG.max}; Linux queues backlog + 1`,
    // Node's, nginx's, Redis's and Apache's: large enough that a burst waits in the kernel, not in SYN retries.
    default: 511,
    parse: (name, value) => integerOption(name, value, { ...BACKLOG, hint: explainBacklogZero }),
  },
  format: {
    short: 'f',
    arg: '<format>',
    help: 'ctime (like Python time.ctime()), iso (RFC 3339) or rfc2822',
    default: 'ctime',
    choices: DAYTIME_FORMATS,
    parse: (name, value) => choiceOption(name, text(value), DAYTIME_FORMATS),
  },
  udpRate: {
    arg: '<n>',
    help: 'UDP replies a second to one source address (burst: twice that), per worker',
    default: 10,
    parse: integer(1, 1_000_000),
    requires: needsUdp,
  },
  udpGlobalRate: {
    arg: '<n>',
    help: 'UDP replies a second in all, per worker',
    default: 1000,
    parse: integer(1, 10_000_000),
    requires: needsUdp,
  },
  workers: {
    short: 'w',
    arg: '<n>',
    help: 'processes sharing the port with SO_REUSEPORT',
    default: 1,
    parse: integer(1, 256),
  },
  user: {
    arg: '<name>',
    help: 'once every socket is bound, run as this user (supplementary groups cleared); needs root',
    defaultText: 'the user that started it',
    complete: 'user',
    parse: (name, value) => userOption(name, text(value)),
  },
  group: {
    arg: '<name>',
    help: "with --user, run as this group instead of the user's own",
    complete: 'group',
    parse: (name, value) => groupOption(name, text(value)),
    requires: { option: 'user', reason: 'the group is the one --user runs as' },
  },
  maxConnections: {
    arg: '<n>',
    help: 'above this many open connections, close new ones at once',
    defaultText: 'no limit',
    parse: integer(1, 10_000_000),
  },
  writeTimeout: {
    arg: '<seconds>',
    help: 'destroy a connection whose reply is still unwritten this long after accept',
    default: 10,
    parse: seconds(0.001),
  },
  drainTimeout: {
    arg: '<seconds>',
    help: 'on SIGTERM, time to serve the clients already connected or queued',
    default: 10,
    parse: seconds(0),
  },
  metrics: {
    arg: '<[host:]port>',
    help: 'serve Prometheus metrics at http://HOST:PORT/metrics; a port alone or :PORT: every interface',
    parse: (_name, value) => metricsOption(text(value)),
  },
  accept: {
    arg: '<path>',
    help: 'how connections are taken: auto, uring, uring-accept, libc, handle or socket (see "Accept paths" below)',
    default: 'auto',
    choices: ACCEPT_CHOICES,
    parse: (name, value) => choiceOption(name, text(value), ACCEPT_CHOICES),
  },
  udpIo: {
    arg: '<path>',
    help: 'how UDP datagrams are read: auto, mmsg or dgram (see "UDP" below)',
    default: 'auto',
    choices: UDP_CHOICES,
    parse: (name, value) => choiceOption(name, text(value), UDP_CHOICES),
    requires: needsUdp,
  },
  proxyProtocol: {
    help: 'require a PROXY protocol header (v1 or v2, as HAProxy sends) on TCP before replying; logs name the client',
    requires: {
      option: 'proxyFrom',
      reason:
        'the balancers allowed to send the header (10.0.0.0/8,...), or "any" to trust everyone; ' +
        'without it anyone who reaches the port could claim any client address',
    },
  },
  proxyFrom: {
    arg: '<cidr,...>',
    help: 'with --proxy-protocol, the balancers allowed to send the header (10.0.0.0/8,2001:db8::1), or any',
    parse: (_name, value) => parseTrustList(text(value)),
    requires: { option: 'proxyProtocol', reason: 'it lists who may send the header only that flag reads' },
  },
  proxyTimeout: {
    arg: '<seconds>',
    help: 'with --proxy-protocol, close a connection without a reply if its header takes longer',
    default: 3,
    parse: seconds(0.001),
    requires: { option: 'proxyProtocol', reason: 'it bounds the wait for the header only that flag reads' },
  },
  inetd: {
    arg: '[service]',
    help: 'serve the one connection on standard input (inetd nowait, socat EXEC:): daytime or time',
    default: 'daytime',
    choices: SERVICES,
    parse: (name, value) => choiceOption(name, text(value), SERVICES),
    // Under inetd there is one connection, already accepted: nothing chooses sockets, processes or limits.
    onlyWith: {
      options: ['format', 'quiet', 'logFormat'],
      reason: 'inetd hands over one connection to serve',
    },
  },
  quiet: { short: 'q', help: 'no log line per connection' },
  logFormat: {
    arg: '<format>',
    help: 'pretty or json',
    defaultText: 'pretty on a TTY, JSON lines otherwise',
    choices: ['pretty', 'json'],
    parse: (name, value) => choiceOption(name, text(value), ['pretty', 'json'] as const),
  },
} as const satisfies OptionTable;

// [HOST:]PORT. A port alone or :PORT is every interface, as Prometheus exporters take it
// (node_exporter's --web.listen-address=":9100"); the host is then '' (server.listen without one).
// A host without a port is refused: a metrics port has no default to fall back on.
function metricsOption(value: string): Target {
  const expected = 'PORT, :PORT or HOST:PORT (e.g. 9464, 127.0.0.1:9464, [::1]:9464)';
  const target = /^\d+$/.test(value.trim())
    ? { host: '', port: portOption('metrics port', value) }
    : parseTarget(value, { host: '', port: 0 }, 'metrics');
  if (!target.port) throw new InvalidOptionError('metrics', expected, value);
  return { host: target.host && hostOption('metrics', target.host), port: target.port };
}
