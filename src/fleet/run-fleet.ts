import { spawnSync } from 'node:child_process';
import { DaytimeError, InvalidOptionError } from '../errors.ts';
import { netnsUnavailable } from '../kernel/netns.ts';
import { optionValue } from '../options/declare.ts';
import { FLEET_OPTIONS } from '../options/fleet.ts';
import type { NumberInput } from '../options/validate.ts';
import { Haproxy, hasHaproxy } from './haproxy.ts';
import { DaytimeHost } from './processes.ts';
import { queueing } from './queueing.ts';
import {
  type FleetContext,
  type FleetProgress,
  killHost,
  proxyV2,
  reload,
  rollingRestart,
  type ScenarioResult,
  spread,
  until,
} from './scenarios.ts';
import { createTopology, destroyTopology, fleetTopology } from './topology.ts';

// Named in kebab-case, as the lab's experiments are.
export const SCENARIOS = {
  spread,
  'proxy-v2': proxyV2,
  'rolling-restart': rollingRestart,
  'kill-host': killHost,
  reload,
  queueing,
} as const satisfies Record<string, (ctx: FleetContext) => Promise<ScenarioResult>>;
export type ScenarioName = keyof typeof SCENARIOS;
export type { FleetProgress };

export interface RunFleetOptions {
  hosts?: NumberInput;
  // Scenario names; the camelCase spelling of earlier versions (rollingRestart) is accepted too.
  only?: string[];
  signal?: AbortSignal;
  onProgress?: (event: FleetProgress) => void;
}

export interface FleetReport {
  hosts: number;
  haproxy: string;
  startedAt: string;
  durationMs: number;
  scenarios: Partial<Record<ScenarioName, ScenarioResult>>;
}

// Why the fleet cannot run here, or undefined: it needs root (namespaces), ip and haproxy.
export function fleetUnavailable(): string | undefined {
  const namespaces = netnsUnavailable('ip netns');
  if (namespaces) return `the fleet ${namespaces}`;
  if (!hasHaproxy()) return 'the fleet needs haproxy (apt-get install haproxy)';
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0)
    return 'the fleet needs setpriv (util-linux)';
  return undefined;
}

export function normalizeFleetOptions(options: RunFleetOptions): { hosts: number; only: ScenarioName[] } {
  const hosts = optionValue(FLEET_OPTIONS, 'hosts', options.hosts);
  const names = Object.keys(SCENARIOS) as ScenarioName[];
  const only = (options.only ?? names).map((name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  for (const name of only) {
    if (!names.includes(name as ScenarioName))
      throw new InvalidOptionError('only', `one of ${names.join(', ')}`, name);
  }
  return { hosts, only: only as ScenarioName[] };
}

// Builds the fleet in network namespaces, runs the scenarios in order, and tears everything down,
// also when one fails or the signal aborts.
export async function runFleet(options: RunFleetOptions = {}): Promise<FleetReport> {
  const { hosts: count, only } = normalizeFleetOptions(options);
  const unavailable = fleetUnavailable();
  if (unavailable) throw new DaytimeError('ERR_FLEET_UNAVAILABLE', unavailable);
  const signal = options.signal ?? new AbortController().signal;
  const progress = options.onProgress ?? (() => {});
  const topology = fleetTopology(count);
  const haproxy = new Haproxy();
  const hosts = topology.hosts.map((h) => new DaytimeHost(h, topology.lb.backend));
  // A last resort if the process exits without reaching `finally` (a second Ctrl-C).
  const onExit = () => {
    for (const p of [haproxy.child, ...hosts.map((h) => h.child)]) p?.kill('SIGKILL');
    destroyTopology(topology);
  };
  process.once('exit', onExit);
  const started = Date.now();
  const scenarios: FleetReport['scenarios'] = {};
  try {
    progress({ type: 'building', namespaces: count + 3, prefix: topology.prefix });
    createTopology(topology);
    await Promise.all(hosts.map((h) => h.start()));
    await haproxy.start(topology);
    const ctx: FleetContext = { topology, haproxy, hosts, signal, progress };
    for (const h of hosts) await until(ctx, h, 'UP', (r) => r.status === 'UP');
    for (const name of only) {
      if (signal.aborted) throw new DaytimeError('ABORT_ERR', 'stopped');
      progress({ type: 'scenario', name });
      scenarios[name] = await SCENARIOS[name](ctx);
    }
    const version = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
    return {
      hosts: count,
      haproxy: version,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      scenarios,
    };
  } finally {
    progress({ type: 'teardown' });
    await haproxy.stop().catch(() => {});
    await Promise.all(hosts.map((h) => h.stop('SIGKILL').catch(() => {})));
    destroyTopology(topology);
    process.off('exit', onExit);
  }
}
