import { setTimeout as sleep } from 'node:timers/promises';
import { DaytimeError } from '../errors.ts';
import type { Haproxy, StatRow } from './haproxy.ts';
import { Load } from './load.ts';
import { type DaytimeHost, DIST, exited, spawnIn } from './processes.ts';
import type { Topology } from './topology.ts';

// What runFleet reports as it goes; src/cli/format-progress.ts puts it in words.
export type FleetProgress =
  | { type: 'building'; namespaces: number; prefix: string }
  | { type: 'scenario'; name: string }
  // rolling-restart: this host is next.
  | { type: 'restart'; host: string }
  // queueing: this host is stopped (SIGSTOP), with this server maxconn (0: none).
  | { type: 'stopped'; host: string; maxconn: number }
  | { type: 'teardown' };

export interface FleetContext {
  topology: Topology;
  haproxy: Haproxy;
  hosts: DaytimeHost[];
  signal: AbortSignal;
  progress(event: FleetProgress): void;
}

export interface ScenarioResult {
  connections: number;
  errors: number;
  [figure: string]: unknown;
}

const BACKENDS = ['daytime', 'time'];
const target = (ctx: FleetContext) => ({ host: ctx.topology.lb.frontend, port: 13 });
const failed = (r: { completed: number; ok: number }) => r.completed - r.ok;

export function load(ctx: FleetContext, connections: number, amount: string): Load {
  const run = new Load(ctx.topology.client.ns, target(ctx), connections, amount);
  ctx.signal.addEventListener('abort', () => run.kill(), { once: true });
  return run;
}

// Polls HAProxy's view of a host until `ok` holds; the row then.
export async function until(
  ctx: FleetContext,
  host: DaytimeHost,
  what: string,
  ok: (row: StatRow) => boolean,
  timeoutMs = 15_000,
): Promise<StatRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ctx.signal.aborted) throw new DaytimeError('ABORT_ERR', 'stopped');
    const row = await ctx.haproxy.server('daytime', host.name);
    if (row && ok(row)) return row;
    if (Date.now() > deadline)
      throw new DaytimeError('ERR_FLEET', `${host.name} not ${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function setState(ctx: FleetContext, host: DaytimeHost, state: 'ready' | 'drain' | 'maint') {
  for (const backend of BACKENDS)
    await ctx.haproxy.command(`set server ${backend}/${host.name} state ${state}`);
}

// Back in rotation and UP, whatever happened to it.
export async function restore(ctx: FleetContext, host: DaytimeHost): Promise<void> {
  if (!host.child) await host.start();
  await setState(ctx, host, 'ready');
  await until(ctx, host, 'UP', (r) => r.status === 'UP');
}

// At least 30,000 connections from the client's namespace: every one served, each host its share.
export async function spread(ctx: FleetContext): Promise<ScenarioResult> {
  for (const h of ctx.hosts) h.resetCounts();
  const result = await load(ctx, 32, 'count:30000').result;
  // Each host logs the client's address for a relayed connection (the balancer's for a health check).
  const perHost = Object.fromEntries(ctx.hosts.map((h) => [h.name, h.served(ctx.topology.client.address)]));
  const share = result.ok / ctx.hosts.length;
  const deviations = Object.values(perHost).map((n) => Math.abs(n - share) / share);
  return {
    connections: result.completed,
    errors: failed(result),
    connPerSec: result.connPerSec,
    perHost,
    maxDeviationPct: Math.round(Math.max(...deviations) * 1000) / 10,
  };
}

// The client's address reaches the hosts through the PROXY v2 header, and only through the balancer:
// a client on the hosts' network (another host's namespace) that sends a forged header straight to a
// host is refused, counted, and never logged as the address it claimed.
export async function proxyV2(ctx: FleetContext): Promise<ScenarioResult> {
  for (const h of ctx.hosts) h.resetCounts();
  const result = await load(ctx, 4, 'count:300').result;
  const client = ctx.topology.client.address;
  const hostsSeeingClient = ctx.hosts.filter((h) => h.served(client) > 0).length;
  const [target, forger] = ctx.hosts;
  const forged = target && forger ? await forge(ctx, forger.ns, target) : undefined;
  return {
    connections: result.completed,
    errors: failed(result),
    clientAddress: client,
    clientAddressSeen: hostsSeeingClient === ctx.hosts.length,
    hostsSeeingClient,
    // Every connection the hosts logged from the client came with a `via` (the balancer).
    relayed: ctx.hosts.reduce((n, h) => n + h.relayed, 0),
    ...forged,
  };
}

// An address from TEST-NET-3 (RFC 5737): no real client has it.
const FORGED = '203.0.113.66';

async function forge(ctx: FleetContext, from: string, target: FleetContext['hosts'][number]) {
  const refusalsBefore = target.refusals.length;
  const agent = spawnIn(from, process.execPath, [
    `${DIST}fleet/forge-agent.js`,
    target.address,
    '13',
    FORGED,
  ]);
  ctx.signal.addEventListener('abort', () => agent.kill(), { once: true });
  let out = '';
  agent.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  await exited(agent);
  // The refusal is logged within the second.
  for (let i = 0; i < 20 && target.refusals.length === refusalsBefore; i++) await sleep(50);
  const answer = JSON.parse(out || '{}') as { bytes?: number };
  return {
    forgedAnswered: (answer.bytes ?? 0) > 0,
    forgedLoggedAs: target.served(FORGED),
    forgedRefusal: target.refusals.slice(refusalsBefore).find((line) => /not in --proxy-from/.test(line)),
  };
}

// Every host in turn, under load: out of rotation, SIGTERM (drain), started again, back once UP.
export async function rollingRestart(ctx: FleetContext): Promise<ScenarioResult> {
  const run = load(ctx, 16, '600');
  await sleep(1000);
  const steps: { host: string; outOfRotationMs: number }[] = [];
  for (const host of ctx.hosts) {
    const started = Date.now();
    ctx.progress({ type: 'restart', host: host.name });
    await setState(ctx, host, 'drain');
    await until(ctx, host, 'drained', (r) => r.scur === 0);
    await host.stop('SIGTERM');
    await host.start();
    await setState(ctx, host, 'ready');
    await until(ctx, host, 'UP', (r) => r.status === 'UP');
    steps.push({ host: host.name, outOfRotationMs: Date.now() - started });
  }
  await sleep(500);
  const result = await run.stop();
  return { connections: result.completed, errors: failed(result), steps };
}

// kill -9 of one host under load: what it held is lost, nothing after HAProxy marks it DOWN.
export async function killHost(ctx: FleetContext): Promise<ScenarioResult> {
  const [victim] = ctx.hosts;
  if (!victim) throw new DaytimeError('ERR_FLEET', 'no host');
  const run = load(ctx, 32, '600');
  await sleep(1500);
  // Connections HAProxy has open to the host (those in its accept queue included) and queued for it,
  // at their most over the last 300 ms before the kill: they turn over thousands of times a second.
  let heldBeforeKill = 0;
  for (const until = Date.now() + 300; Date.now() < until; ) {
    const row = await ctx.haproxy.server('daytime', victim.name);
    heldBeforeKill = Math.max(heldBeforeKill, (row?.scur ?? 0) + (row?.qcur ?? 0));
  }
  // And those HAProxy sent to it while it died (from the last look until the process was gone).
  const totalBefore = (await ctx.haproxy.server('daytime', victim.name))?.stot ?? 0;
  const killedAt = Date.now();
  await victim.stop('SIGKILL');
  const sentWhileDying =
    ((await ctx.haproxy.server('daytime', victim.name))?.stot ?? totalBefore) - totalBefore;
  const inFlightAtKill = heldBeforeKill + sentWhileDying;
  await until(ctx, victim, 'DOWN', (r) => r.status.startsWith('DOWN'), 10_000);
  const markedDownMs = Date.now() - killedAt;
  // Progress lines come every 100 ms: count from the second one after the mark.
  const downAt = Date.now();
  await sleep(2000);
  const result = await run.stop();
  const errorsBeforeDown = run.errorsAt(downAt + 250);
  await restore(ctx, victim);
  return {
    connections: result.completed,
    errors: failed(result),
    inFlightAtKill,
    heldBeforeKill,
    sentWhileDying,
    markedDownMs,
    checkBudgetMs: 2 * 500,
    errorsAfterDown: failed(result) - errorsBeforeDown,
  };
}

// HAProxy reloaded three times under load (SIGUSR2 to the master).
export async function reload(ctx: FleetContext): Promise<ScenarioResult> {
  const run = load(ctx, 32, '600');
  await sleep(1000);
  const workers: number[] = [];
  for (let i = 0; i < 3; i++) {
    workers.push(await ctx.haproxy.reload());
    await sleep(1000);
  }
  const result = await run.stop();
  return { connections: result.completed, errors: failed(result), reloads: workers.length, workers };
}
