import { InvalidOptionError } from '../errors.ts';
import { integerOption } from '../options/validate.ts';

// Accepts a second: 0 is a server that does not call accept(); 'max', one that accepts as fast as the
// kernel hands connections over.
export type AcceptRate = number | 'max';

// The sysctls a run may set, by their own names; each applies inside the run's own network namespace.
export const SYSCTL_NAMES = {
  somaxconn: 'net.core.somaxconn',
  tcp_syncookies: 'net.ipv4.tcp_syncookies',
  tcp_abort_on_overflow: 'net.ipv4.tcp_abort_on_overflow',
  tcp_syn_linear_timeouts: 'net.ipv4.tcp_syn_linear_timeouts',
} as const;
export type SysctlName = keyof typeof SYSCTL_NAMES;

export interface PlaygroundParams {
  backlog: number;
  clients: number;
  // Clients started a second; 0 starts them all at once.
  arrivalPerSecond: number;
  acceptsPerSecond: AcceptRate;
  // Each client gives up this long after it started (never the kernel's own 131 s).
  clientTimeoutS: number;
  // The run ends after this long whatever the clients are doing.
  maxDurationS: number;
  sysctls: Partial<Record<SysctlName, number>>;
}

export interface ParamRange {
  min: number;
  max: number;
  default: number;
  label: string;
}

// One table for the API's checks, the page's controls and the README.
export const LIMITS: Record<Exclude<keyof PlaygroundParams, 'sysctls'>, ParamRange> &
  Record<SysctlName, ParamRange> = {
  backlog: { min: 0, max: 1024, default: 5, label: 'Backlog' },
  clients: { min: 1, max: 500, default: 8, label: 'Clients' },
  arrivalPerSecond: { min: 0, max: 1000, default: 0, label: 'Clients a second (0: all at once)' },
  acceptsPerSecond: { min: 0, max: 1000, default: 0, label: 'Accepts per second' },
  clientTimeoutS: { min: 1, max: 60, default: 10, label: 'Client timeout, s' },
  maxDurationS: { min: 2, max: 300, default: 60, label: 'Longest run, s' },
  somaxconn: { min: 0, max: 65535, default: 4096, label: 'net.core.somaxconn' },
  tcp_syncookies: { min: 0, max: 2, default: 1, label: 'net.ipv4.tcp_syncookies' },
  tcp_abort_on_overflow: { min: 0, max: 1, default: 0, label: 'net.ipv4.tcp_abort_on_overflow' },
  tcp_syn_linear_timeouts: { min: 0, max: 10, default: 4, label: 'net.ipv4.tcp_syn_linear_timeouts' },
};

export const DEFAULT_PARAMS: PlaygroundParams = {
  backlog: LIMITS.backlog.default,
  clients: LIMITS.clients.default,
  arrivalPerSecond: LIMITS.arrivalPerSecond.default,
  acceptsPerSecond: LIMITS.acceptsPerSecond.default,
  clientTimeoutS: LIMITS.clientTimeoutS.default,
  maxDurationS: LIMITS.maxDurationS.default,
  sysctls: {},
};

const range = (name: keyof typeof LIMITS, value: unknown) =>
  integerOption(name, typeof value === 'number' || typeof value === 'string' ? value : String(value), {
    min: LIMITS[name].min,
    max: LIMITS[name].max,
  });

export function normalizeAcceptRate(value: unknown): AcceptRate {
  return value === 'max' ? 'max' : range('acceptsPerSecond', value);
}

// The one place where a run's parameters are checked, before any socket opens. `sysctlsUnavailable`
// says why sysctls cannot be set here (no root, no namespaces); undefined when they can.
export function normalizePlaygroundParams(
  input: unknown,
  sysctlsUnavailable: string | undefined,
): PlaygroundParams {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidOptionError('parameters', 'a JSON object', JSON.stringify(input) ?? String(input));
  }
  const given = input as Record<string, unknown>;
  const known = Object.keys(LIMITS);
  const unknown = Object.keys(given).find((k) => !known.includes(k));
  if (unknown !== undefined) throw new InvalidOptionError('parameters', `among ${known.join(', ')}`, unknown);
  const pick = (name: Exclude<keyof typeof LIMITS, SysctlName>) =>
    given[name] === undefined ? LIMITS[name].default : range(name, given[name]);
  const sysctls: PlaygroundParams['sysctls'] = {};
  for (const name of Object.keys(SYSCTL_NAMES) as SysctlName[]) {
    if (given[name] === undefined || given[name] === null || given[name] === '') continue;
    if (sysctlsUnavailable) {
      throw new InvalidOptionError(name, 'left unset here', given[name], `Setting it ${sysctlsUnavailable}`);
    }
    sysctls[name] = range(name, given[name]);
  }
  return {
    backlog: pick('backlog'),
    clients: pick('clients'),
    arrivalPerSecond: pick('arrivalPerSecond'),
    acceptsPerSecond:
      given.acceptsPerSecond === undefined
        ? DEFAULT_PARAMS.acceptsPerSecond
        : normalizeAcceptRate(given.acceptsPerSecond),
    clientTimeoutS: pick('clientTimeoutS'),
    maxDurationS: pick('maxDurationS'),
    sysctls,
  };
}

export interface Preset {
  id: string;
  title: string;
  // What to watch for, in a sentence.
  note: string;
  params: Partial<Omit<PlaygroundParams, 'sysctls'>> & Partial<Record<SysctlName, number>>;
}

// The lab's findings, one run each.
export const PRESETS: Preset[] = [
  {
    id: 'listen-5',
    title: 'listen(5)',
    note: 'The classic example, not accepting: the queue holds 6 (backlog + 1), the other 2 retransmit their SYN. Then set Accepts per second.',
    params: { backlog: 5, clients: 8, arrivalPerSecond: 0, acceptsPerSecond: 0, clientTimeoutS: 10 },
  },
  {
    id: 'listen-1',
    title: 'listen(1)',
    note: 'The same 8 clients against listen(1): the queue holds 2, 6 wait for SYN retransmissions.',
    params: { backlog: 1, clients: 8, arrivalPerSecond: 0, acceptsPerSecond: 0, clientTimeoutS: 10 },
  },
  {
    id: 'backlog-0',
    title: 'backlog 0',
    note: 'listen(0) is real on Linux: it holds one connection.',
    params: { backlog: 0, clients: 4, arrivalPerSecond: 0, acceptsPerSecond: 0, clientTimeoutS: 6 },
  },
  {
    id: 'burst',
    title: 'the burst that loses clients',
    note: "The lab's burst: 20 clients at once, listen(1), one accept every 50 ms, 4 s timeouts. Watch SyncookiesSent and the lost lanes.",
    params: { backlog: 1, clients: 20, arrivalPerSecond: 0, acceptsPerSecond: 20, clientTimeoutS: 4 },
  },
  {
    id: 'cookies-off',
    title: 'SYN cookies off',
    note: 'The same burst with tcp_syncookies = 0 (root: in the run’s own namespace): SYNs are dropped instead, and every client gets in late rather than never.',
    params: {
      backlog: 1,
      clients: 20,
      arrivalPerSecond: 0,
      acceptsPerSecond: 20,
      clientTimeoutS: 10,
      tcp_syncookies: 0,
    },
  },
];
