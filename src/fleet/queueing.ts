import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaytimeError } from '../errors.ts';
import { parseNetstat } from '../kernel/netstat.ts';
import { DIST, eachLine, exited, spawnIn } from './processes.ts';
import { type FleetContext, load, restore, type ScenarioResult } from './scenarios.ts';

// Where connections wait when a host stops answering (SIGSTOP: the kernel still completes handshakes
// and queues them). Once without a server maxconn, once with a small one, the same load each time.
export async function queueing(ctx: FleetContext): Promise<ScenarioResult> {
  const [victim] = ctx.hosts;
  if (!victim) throw new DaytimeError('ERR_FLEET', 'no host');
  const configured = Number(
    /default-server[^\n]*\bmaxconn (\d+)/.exec(readFileSync(ctx.haproxy.configPath, 'utf8'))?.[1],
  );
  try {
    const withoutMaxconn = await stalled(ctx, 0);
    const withMaxconn = await stalled(ctx, 8);
    return {
      connections: withoutMaxconn.connections + withMaxconn.connections,
      errors: withoutMaxconn.errors + withMaxconn.errors,
      withoutMaxconn,
      withMaxconn,
    };
  } finally {
    await setMaxconn(ctx, Number.isFinite(configured) ? configured : 0);
  }
}

async function setMaxconn(ctx: FleetContext, maxconn: number): Promise<void> {
  for (const h of ctx.hosts) await ctx.haproxy.command(`set maxconn server daytime/${h.name} ${maxconn}`);
}

// The namespace's own ListenOverflows: every socket in it is the stopped host's.
function overflows(ns: string): number {
  const text = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/netstat'], { encoding: 'utf8' });
  return parseNetstat(text).TcpExtListenOverflows ?? 0;
}

const IN_FLIGHT = 640;

async function stalled(ctx: FleetContext, maxconn: number): Promise<ScenarioResult> {
  const [victim] = ctx.hosts as [NonNullable<FleetContext['hosts'][0]>];
  await setMaxconn(ctx, maxconn);
  ctx.progress({ type: 'stopped', host: victim.name, maxconn });
  const queueTimeoutsBefore = ctx.haproxy.terminations.get('sQ') ?? 0;
  const overflowsBefore = overflows(victim.ns);
  // `daytime watch` inside the stopped host's namespace: its queue and that namespace's counters.
  const watch = spawnIn(victim.ns, process.execPath, [
    `${DIST}cli.js`,
    'watch',
    '13',
    '--json',
    '--interval',
    '0.5',
    '--count',
    '16',
  ]);
  const samples: { queued: number; overflowsPerSecond: number }[] = [];
  eachLine(watch.stdout, (line) => {
    const s = JSON.parse(line) as { tcp: { queued: number }[]; perSecond: { listenOverflows?: number } };
    samples.push({
      queued: Math.max(0, ...s.tcp.map((r) => r.queued)),
      overflowsPerSecond: s.perSecond.listenOverflows ?? 0,
    });
  });
  victim.child?.kill('SIGSTOP');
  const stoppedAt = Date.now();
  // More connections in flight than the stopped host's accept queue holds (backlog 511 + 1), so that
  // without a limit in HAProxy that queue can fill.
  const run = load(ctx, IN_FLIGHT, '5');
  let haproxyQueueMax = 0;
  let hostSessionsMax = 0;
  let markedDownMs: number | undefined;
  let done = false;
  run.result.finally(() => {
    done = true;
  });
  while (!done) {
    const rows = await ctx.haproxy.stats();
    const backend = rows.find((r) => r.pxname === 'daytime' && r.svname === 'BACKEND');
    const host = rows.find((r) => r.pxname === 'daytime' && r.svname === victim.name);
    haproxyQueueMax = Math.max(haproxyQueueMax, (backend?.qcur ?? 0) + (host?.qcur ?? 0));
    hostSessionsMax = Math.max(hostSessionsMax, host?.scur ?? 0);
    if (markedDownMs === undefined && host?.status.startsWith('DOWN')) markedDownMs = Date.now() - stoppedAt;
    await sleep(100);
  }
  const result = await run.result;
  const listenOverflows = overflows(victim.ns) - overflowsBefore;
  victim.child?.kill('SIGCONT');
  watch.kill('SIGTERM');
  await exited(watch);
  await restore(ctx, victim);
  return {
    serverMaxconn: maxconn || null,
    connections: result.completed,
    errors: result.completed - result.ok,
    errorsByKind: result.errors,
    hostQueueMax: Math.max(0, ...samples.map((s) => s.queued)),
    listenOverflows,
    listenOverflowsPerSecondMax: Math.max(0, ...samples.map((s) => s.overflowsPerSecond)),
    haproxyQueueMax,
    hostSessionsMax,
    queueTimeouts: (ctx.haproxy.terminations.get('sQ') ?? 0) - queueTimeoutsBefore,
    markedDownMs: markedDownMs ?? null,
  };
}
