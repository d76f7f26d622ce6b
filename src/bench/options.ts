import { lookup } from 'node:dns/promises';
import { InvalidOptionError } from '../errors.ts';
import {
  choiceOption,
  hostOption,
  integerOption,
  type NumberInput,
  secondsOption,
} from '../options/validate.ts';
import { DEFAULT_PORT } from '../server/options.ts';
import { CONNECT_CHOICES, type ConnectChoice } from './tally.ts';

export interface BenchInput {
  host?: string;
  port?: NumberInput;
  // Connections kept in flight, over all workers.
  connections?: NumberInput;
  // Seconds to run; ignored when count is given. Default 10 s.
  duration?: NumberInput;
  // Exactly this many connections.
  count?: NumberInput;
  // Worker threads, each with its own event loop.
  workers?: NumberInput;
  // Seconds one connection may take, connect to EOF.
  timeout?: NumberInput;
  // daytime (RFC 867, a CRLF line) or time (RFC 868, 4 bytes).
  service?: string;
  // How connections are made: auto (default: the fastest that runs here), uring, libc, handle or socket.
  connect?: string;
}

export interface BenchConfig {
  host: string;
  port: number;
  connections: number;
  durationMs: number | undefined;
  count: number | undefined;
  workers: number;
  timeoutMs: number;
  service: 'daytime' | 'time';
  connect: ConnectChoice;
}

export const DEFAULT_BENCH_CONNECTIONS = 64;
export const DEFAULT_BENCH_DURATION_MS = 10_000;

// The one place where bench options are checked; it throws before any socket opens.
export function normalizeBenchOptions(input: BenchInput = {}): BenchConfig {
  const count =
    input.count === undefined ? undefined : integerOption('count', input.count, { min: 1, max: 1e9 });
  const workers = integerOption('workers', input.workers ?? 1, { min: 1, max: 64 });
  const connections = integerOption('connections', input.connections ?? DEFAULT_BENCH_CONNECTIONS, {
    min: 1,
    max: 100_000,
  });
  if (connections < workers) {
    throw new InvalidOptionError('connections', `at least --workers (${workers})`, input.connections);
  }
  return {
    host: hostOption('host', input.host ?? '127.0.0.1'),
    port: integerOption('port', input.port ?? DEFAULT_PORT, { min: 1, max: 65535 }),
    connections,
    count,
    durationMs:
      count !== undefined
        ? undefined
        : input.duration === undefined
          ? DEFAULT_BENCH_DURATION_MS
          : secondsOption('duration', input.duration, { min: 0.1, max: 86_400 }),
    workers,
    timeoutMs: secondsOption('timeout', input.timeout ?? 5, { min: 0.001, max: 3600 }),
    service: choiceOption('service', input.service ?? 'daytime', ['daytime', 'time'] as const),
    connect: choiceOption('connect', input.connect ?? 'auto', CONNECT_CHOICES),
  };
}

// Resolved once, so no connection pays for a DNS lookup.
export async function resolveHost(host: string): Promise<string> {
  return (await lookup(host)).address;
}
