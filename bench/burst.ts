// What one burst costs the event loop: 4,000 connections arriving at once at a `daytime serve` that
// was idle, per accept path, in alternating rounds. The server is pinned to CPU 0 and the C load
// generator to CPU 1, so the delay measured is the server's own work per loop turn (an accept batch),
// not the scheduler giving its CPU to the client. The figure is the server's own
// daytime_event_loop_delay_max_seconds (monitorEventLoopDelay, the largest over the last 10 s), read
// just before and just after each burst; each server rests 11 s between its bursts so a window holds
// one burst only.
//   node bench/burst.ts [--rounds 6] [--clients 4000] [--accept uring,libc,handle] [--json FILE]
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPerf, dtloadAsync, freePort, waitListening } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { cpuNotes, measure } from './lib/measure.ts';
import { ENV } from './lib/peers.ts';
import { median } from './lib/proc.ts';
import { parseSamples } from './lib/prometheus-text.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    clients: { type: 'string', default: '4000' },
    accept: { type: 'string', default: 'uring,libc,handle' },
    json: { type: 'string' },
  },
});
const ROUNDS = Math.min(50, Math.max(1, Number(values.rounds)));
const CLIENTS = Math.min(4000, Math.max(1, Number(values.clients)));
const REST_MS = 11_000;
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const round1 = (x: number) => Math.round(x * 10) / 10;

interface Server {
  accept: string;
  port: number;
  metrics: number;
  child: ChildProcess;
  lastBurst: number;
  before: number[];
  after: number[];
  cpu: number[];
  busyLessLoad: number[];
  threadsLost: number;
  failed: number;
}
const tally = () => ({ cpu: [] as number[], busyLessLoad: [] as number[], threadsLost: 0 });

async function loopDelayMs(server: Server): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metrics}/metrics`)).text();
  const value = parseSamples(text).find((s) => s.name === 'daytime_event_loop_delay_max_seconds')?.value;
  if (value === undefined) throw new Error('no daytime_event_loop_delay_max_seconds in /metrics');
  return value * 1000;
}

// All CLIENTS connections at once, from CPU 1.
const burst = (port: number) =>
  dtloadAsync(port, ['-c', String(CLIENTS), '-n', String(CLIENTS), '-t', '1', '-T', '10000'], { cpu: 1 });

buildPerf();
const servers: Server[] = [];
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
try {
  for (const accept of String(values.accept).split(',')) {
    const [port, metrics] = [await freePort(), await freePort()];
    const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--backlog', '4096', '--quiet'];
    const flags = ['--accept', accept, '--metrics', `127.0.0.1:${metrics}`, '--log-format', 'json'];
    const child = spawn('taskset', ['-c', '0', BIN, ...args, ...flags], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: ENV,
    });
    servers.push({
      accept,
      port,
      metrics,
      child,
      lastBurst: 0,
      before: [],
      after: [],
      failed: 0,
      ...tally(),
    });
    await waitListening(port);
  }
  // Start-up (module loading, the JIT) stays out of the first window.
  await sleep(REST_MS, undefined, { signal: stop.signal });
  for (let round = 1; round <= ROUNDS && !stop.signal.aborted; round++) {
    for (const server of servers) {
      await sleep(Math.max(0, server.lastBurst + REST_MS - Date.now()), undefined, { signal: stop.signal });
      const pid = server.child.pid ?? 0;
      server.before.push(await loopDelayMs(server));
      const m = await measure(pid, async () => {
        const result = await burst(server.port);
        server.lastBurst = Date.now();
        await sleep(300);
        return result;
      });
      server.after.push(await loopDelayMs(server));
      const result = m.value;
      server.cpu.push(m.cpuUs / Math.max(1, result.all ?? 1));
      server.busyLessLoad.push(m.busyLessLoadUs / Math.max(1, result.all ?? 1));
      server.threadsLost += m.threadsLost;
      server.failed += (result.all ?? 0) - (result.ok ?? 0);
    }
    process.stderr.write(`round ${round}/${ROUNDS}\n`);
  }
  const rows = servers.map((s) => ({
    accept: s.accept,
    idleLoopDelayMaxMs: round1(median(s.before)),
    burstLoopDelayMaxMs: { median: round1(median(s.after)), max: round1(Math.max(...s.after)) },
    cpuUsPerConn: round1(median(s.cpu)),
    machineBusyLessLoadGenUsPerConn: round1(median(s.busyLessLoad)),
    threadsLost: s.threadsLost,
    failed: s.failed,
    bursts: s.after.length,
  }));
  const result = { date: new Date().toISOString(), machine: describeMachine(), clients: CLIENTS, rows };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `${result.machine.label}\n\n| accept path | loop delay max ms, idle | during ${CLIENTS} at once: median / max | CPU µs/conn | machine busy − load gen, µs/conn | failed |\n|---|---|---|---|---|---|\n` +
      rows
        .map(
          (r) =>
            `| ${r.accept} | ${r.idleLoopDelayMaxMs} | ${r.burstLoopDelayMaxMs.median} / ${r.burstLoopDelayMaxMs.max} | ${r.cpuUsPerConn} | ${r.machineBusyLessLoadGenUsPerConn} | ${r.failed} |`,
        )
        .join('\n') +
      `\n\n${cpuNotes(
        'connection',
        rows.map((r) => ({ name: r.accept, ...r })),
      ).join('\n')}\n`,
  );
} finally {
  for (const server of servers) server.child.kill('SIGTERM');
}
