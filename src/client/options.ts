import {
  choiceOption,
  hostOption,
  integerOption,
  type NumberInput,
  secondsOption,
} from '../options/validate.ts';
import { DEFAULT_PORT } from '../server/options.ts';

export const DEFAULT_TIMEOUT_MS = 5000;
// RFC 867 asks for one short line; anything longer is not a daytime server.
export const MAX_REPLY_BYTES = 512;

export interface QueryInput {
  host?: string;
  port?: NumberInput;
  // Seconds, as on the command line ("5", "0.5"); timeoutMs wins when both are given.
  timeout?: NumberInput;
  timeoutMs?: number;
  signal?: AbortSignal;
  transport?: string;
}

export interface QueryConfig {
  host: string;
  port: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  transport: 'tcp' | 'udp';
}

// The one place where client options are checked; it throws before any socket exists.
export function normalizeQueryOptions(input: QueryInput = {}): QueryConfig {
  const timeoutMs =
    input.timeoutMs !== undefined
      ? integerOption('timeoutMs', input.timeoutMs, { min: 1, max: 3_600_000 })
      : input.timeout !== undefined
        ? secondsOption('timeout', input.timeout, { min: 0.001, max: 3600 })
        : DEFAULT_TIMEOUT_MS;
  return {
    host: hostOption('host', input.host ?? 'localhost'),
    port: integerOption('port', input.port ?? DEFAULT_PORT, { min: 1, max: 65535 }),
    timeoutMs,
    signal: input.signal,
    transport: choiceOption('transport', input.transport ?? 'tcp', ['tcp', 'udp'] as const),
  };
}
