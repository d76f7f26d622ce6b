import { lookup } from 'node:dns/promises';
import { InvalidOptionError } from '../errors.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { portOption } from '../net/service-port.ts';
import { checkOptionRules } from '../options/rules.ts';
import {
  choiceOption,
  hostOption,
  integerOption,
  type NumberInput,
  secondsOption,
} from '../options/validate.ts';
import { CONNECT_CHOICES, type ConnectChoice } from './tally.ts';

export interface BenchInput {
  host?: string;
  // A number or a service name from /etc/services; default 9999 (daytime) or 37 (time).
  port?: NumberInput;
  // Connections kept in flight, over all workers.
  connections?: NumberInput;
  // Seconds to run (default 10 s); or, instead, exactly `count` connections. Not both.
  duration?: NumberInput;
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
  checkOptionRules(input, [
    {
      conflicts: ['count', 'duration'],
      reason: 'a run is either a number of connections or a length of time',
    },
  ]);
  const service = choiceOption('service', input.service ?? 'daytime', ['daytime', 'time'] as const);
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
    port: portOption('port', input.port ?? (service === 'time' ? DEFAULT_TIME_PORT : DEFAULT_PORT)),
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
    service,
    connect: choiceOption('connect', input.connect ?? 'auto', CONNECT_CHOICES),
  };
}

// Resolved once, so no connection pays for a DNS lookup.
export async function resolveHost(host: string): Promise<string> {
  return (await lookup(host)).address;
}
