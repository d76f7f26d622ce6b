import { lookup } from 'node:dns/promises';
import { InvalidOptionError } from '../errors.ts';
import { DEFAULT_PORT, DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { portOption } from '../net/service-port.ts';
import { BENCH_OPTIONS } from '../options/bench.ts';
import { optionRules, optionValue } from '../options/declare.ts';
import { checkOptionRules } from '../options/rules.ts';
import { choiceOption, hostOption, type NumberInput } from '../options/validate.ts';
import type { ConnectChoice } from './tally.ts';

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

const RULES = optionRules(BENCH_OPTIONS);

// The one place where bench options are checked; it throws before any socket opens.
export function normalizeBenchOptions(input: BenchInput = {}): BenchConfig {
  checkOptionRules(input, RULES);
  const service = choiceOption('service', input.service ?? 'daytime', ['daytime', 'time'] as const);
  const count = optionValue(BENCH_OPTIONS, 'count', input.count);
  const workers = optionValue(BENCH_OPTIONS, 'workers', input.workers);
  const connections = optionValue(BENCH_OPTIONS, 'connections', input.connections);
  if (connections < workers) {
    throw new InvalidOptionError('connections', `at least --workers (${workers})`, input.connections);
  }
  return {
    host: hostOption('host', input.host ?? '127.0.0.1'),
    port: portOption('port', input.port ?? (service === 'time' ? DEFAULT_TIME_PORT : DEFAULT_PORT)),
    connections,
    count,
    // A count, or a length of time: the default duration only without a count.
    durationMs: count !== undefined ? undefined : optionValue(BENCH_OPTIONS, 'duration', input.duration),
    workers,
    timeoutMs: optionValue(BENCH_OPTIONS, 'timeout', input.timeout),
    service,
    connect: optionValue(BENCH_OPTIONS, 'connect', input.connect),
  };
}

// Resolved once, so no connection pays for a DNS lookup.
export async function resolveHost(host: string): Promise<string> {
  return (await lookup(host)).address;
}
