// Whether Node's event loop stays responsive while an accept path works through a flood: one
// `daytime serve --udp` per accept path, `dtload -c 64 -t 2` on its TCP port in alternating rounds, and
// meanwhile a UDP daytime query every 10 ms, answered by the same process's event loop (as a timer, a
// signal or a metrics scrape would be). The UDP reply time is how long the loop is held; CPU per TCP
// connection is what bounding the work per readiness costs.
//   node bench/loop-latency.ts [--rounds 6] [--seconds 3] [--accept uring,libc,handle] [--json FILE]
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPerf, dtloadAsync, freePort, waitListening } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { cpuNotes, measure } from './lib/measure.ts';
import { ENV } from './lib/peers.ts';
import { median } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '3' },
    accept: { type: 'string', default: 'uring,libc,handle' },
    json: { type: 'string' },
  },
});
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] ?? 0;

buildPerf();
const udp = dgram.createSocket('udp4');
await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
// One query at a time: the reply time, or 1 s when none came.
const query = (port: number) =>
  new Promise<number>((resolve) => {
    const start = performance.now();
    const done = (ms: number) => {
      clearTimeout(timer);
      udp.off('message', onMessage);
      resolve(ms);
    };
    const onMessage = () => done(performance.now() - start);
    const timer = setTimeout(() => done(1000), 1000);
    udp.on('message', onMessage);
    udp.send(Buffer.alloc(0), port, '127.0.0.1');
  });

interface Server {
  accept: string;
  port: number;
  child: ChildProcess;
  cpu: number[];
  busyLessLoad: number[];
  threadsLost: number;
  replyMs: number[];
}
const servers: Server[] = [];
try {
  for (const accept of String(values.accept).split(',')) {
    const port = await freePort();
    const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--quiet', '--log-format', 'json'];
    const flags = ['--accept', accept, '--udp', '--udp-rate', '100000', '--udp-global-rate', '100000'];
    const child = spawn(BIN, [...args, ...flags], { stdio: ['ignore', 'ignore', 'inherit'], env: ENV });
    servers.push({ accept, port, child, cpu: [], busyLessLoad: [], threadsLost: 0, replyMs: [] });
    await waitListening(port);
  }
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const server of servers) {
      const pid = server.child.pid ?? 0;
      // The harness's own UDP queries count with the load generator in the cross-check.
      const m = await measure(pid, async () => {
        let loading = true;
        const load = dtloadAsync(server.port, ['-c', '64', '-d', String(values.seconds), '-t', '2']).finally(
          () => {
            loading = false;
          },
        );
        await sleep(200);
        while (loading) {
          server.replyMs.push(await query(server.port));
          await sleep(10);
        }
        return load;
      });
      const n = Math.max(1, m.value.all ?? 1);
      server.cpu.push(m.cpuUs / n);
      server.busyLessLoad.push(m.busyLessLoadUs / n);
      server.threadsLost += m.threadsLost;
    }
    process.stderr.write(`round ${round}/${values.rounds}\n`);
  }
  const rows = servers.map((s) => ({
    accept: s.accept,
    cpuUsPerConn: Math.round(median(s.cpu) * 100) / 100,
    machineBusyLessLoadGenUsPerConn: Math.round(median(s.busyLessLoad) * 100) / 100,
    threadsLost: s.threadsLost,
    udpReplyMs: {
      p50: Math.round(quantile(s.replyMs, 0.5) * 10) / 10,
      p99: Math.round(quantile(s.replyMs, 0.99) * 10) / 10,
      max: Math.round(Math.max(...s.replyMs) * 10) / 10,
    },
    queries: s.replyMs.length,
  }));
  const result = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    rounds: Number(values.rounds),
    rows,
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `${result.machine.label}\n\n| accept path | CPU µs/conn | machine busy − load gen, µs/conn | UDP reply p50 / p99 / max ms during the flood |\n|---|---|---|---|\n` +
      rows
        .map(
          (r) =>
            `| ${r.accept} | ${r.cpuUsPerConn} | ${r.machineBusyLessLoadGenUsPerConn} | ${r.udpReplyMs.p50} / ${r.udpReplyMs.p99} / ${r.udpReplyMs.max} |`,
        )
        .join('\n') +
      `\n\n${cpuNotes(
        'connection',
        rows.map((r) => ({ name: r.accept, ...r })),
      ).join('\n')}\n`,
  );
} finally {
  for (const server of servers) server.child.kill('SIGTERM');
  udp.close();
}
