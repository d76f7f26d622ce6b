import { choiceOption, hostOption, integerOption, type NumberInput } from '../options/validate.ts';
import { DAYTIME_FORMATS, type DaytimeFormat } from '../protocol/daytime.ts';

export const DEFAULT_PORT = 9999;
// Node's, nginx's, Redis's and Apache's default: large enough that a burst waits in the kernel, not in SYN retries.
export const DEFAULT_BACKLOG = 511;

export interface DaytimeServerInput {
  // Undefined: every interface, IPv6 and IPv4 where the system has both.
  host?: string;
  port?: NumberInput;
  backlog?: NumberInput;
  format?: string;
}

export interface DaytimeServerConfig {
  host: string | undefined;
  port: number;
  backlog: number;
  format: DaytimeFormat;
}

const explainBacklogZero = (n: number) =>
  n === 0
    ? 'Node turns a backlog of 0 into 511 (`backlog || 511` in lib/net.js), so 0 cannot mean what the kernel ' +
      'makes of it (one queued connection on Linux). `daytime lab` measures backlog 0 with a raw listener'
    : undefined;

// The one place where server options are checked; it throws before any socket exists.
export function normalizeServerOptions(input: DaytimeServerInput = {}): DaytimeServerConfig {
  return {
    host: input.host === undefined ? undefined : hostOption('host', input.host),
    port: integerOption('port', input.port ?? DEFAULT_PORT, { min: 0, max: 65535 }),
    backlog: integerOption('backlog', input.backlog ?? DEFAULT_BACKLOG, {
      min: 1,
      max: 65535,
      hint: explainBacklogZero,
    }),
    format: choiceOption('format', input.format ?? 'ctime', DAYTIME_FORMATS),
  };
}
