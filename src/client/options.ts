import { DEFAULT_PORT } from '../net/default-ports.ts';
import { portOption } from '../net/service-port.ts';
import { optionRules, optionValue } from '../options/declare.ts';
import { GET_OPTIONS, type ProxyVersion } from '../options/get.ts';
import { checkOptionRules } from '../options/rules.ts';
import { choiceOption, hostOption, integerOption, type NumberInput } from '../options/validate.ts';

// RFC 867 asks for one short line; anything longer is not a daytime server.
export const MAX_REPLY_BYTES = 512;
const RULES = optionRules(GET_OPTIONS);

export interface QueryInput {
  host?: string;
  // A number or a service name from /etc/services; default 9999 (daytime) or 37 (time).
  port?: NumberInput;
  // Seconds, as on the command line ("5", "0.5"); timeoutMs wins when both are given.
  timeout?: NumberInput;
  timeoutMs?: number;
  signal?: AbortSignal;
  transport?: string;
  // Send a PROXY protocol header (v1 or v2) naming this connection's own ends before reading, as a
  // balancer does: to query a server that requires one (TCP only).
  proxy?: string;
}

export interface QueryConfig {
  host: string;
  port: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  transport: 'tcp' | 'udp';
  proxy: ProxyVersion | undefined;
}

// The one place where client options are checked; it throws before any socket exists.
export function normalizeQueryOptions(input: QueryInput = {}, defaultPort = DEFAULT_PORT): QueryConfig {
  const transport = choiceOption('transport', input.transport ?? 'tcp', ['tcp', 'udp'] as const);
  checkOptionRules({ proxy: input.proxy, udp: transport === 'udp' }, RULES);
  const timeoutMs =
    input.timeoutMs !== undefined
      ? integerOption('timeoutMs', input.timeoutMs, { min: 1, max: 3_600_000 })
      : optionValue(GET_OPTIONS, 'timeout', input.timeout);
  return {
    host: hostOption('host', input.host ?? 'localhost'),
    port: portOption('port', input.port ?? defaultPort, { protocol: transport }),
    timeoutMs,
    signal: input.signal,
    transport,
    proxy: optionValue(GET_OPTIONS, 'proxy', input.proxy),
  };
}
