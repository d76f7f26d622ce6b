// UDP under a flood (issue 19): dtflood at full speed against `daytime serve --udp` (the batched mmsg
// path, and Node's dgram path for comparison) and against `daytime serve` without --udp, each in a
// network namespace of its own, in alternating rounds. Per round and server: CPU per datagram
// received under the flood alone; then TCP connections/s and p99 (dtload -c 8) under the same flood.
// Then the limits: every reply counted by destination (a raw socket, bench/lib/reply-counter.ts)
// against what --udp-rate and --udp-global-rate allow; and `daytime watch` sampled during a flood.
// Root (ip netns). Run under the machine-wide lock:
//   flock /work/bench.lock node bench/udp-flood.ts [--rounds 6] [--seconds 5] [--json FILE]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeNetns, type Netns, netnsUnavailable } from '../src/kernel/netns.ts';
import { buildPerf, dtload } from './lib/dtload.ts';
import {
  countReplies,
  cpuDetails,
  dtflood,
  type NetnsServer,
  startServer,
  udpCounters,
} from './lib/flood.ts';
import { cpuNotes, measure } from './lib/measure.ts';
import { ENV } from './lib/peers.ts';
import { median } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const PORT = 9999;
const round2 = (x: number) => Math.round(x * 100) / 100;
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const unavailable = netnsUnavailable('ip netns');
if (unavailable) {
  process.stderr.write(`udp-flood: ${unavailable}\n`);
  process.exit(2);
}
buildPerf();
const spaces: Netns[] = [];
const made = (netns: Netns) => {
  spaces.push(netns);
  return netns;
};
const removeAll = () => {
  for (const netns of spaces.splice(0)) netns.remove();
};
process.once('SIGINT', () => {
  removeAll();
  process.exit(130);
});

interface Run {
  name: string;
  args: string[];
  netns: Netns;
  server?: NetnsServer;
  cpuPerDatagram: number[];
  // Machine busy time less dtflood's and the harness's, per datagram read (rough).
  busyLessLoad: number[];
  threadsLost: number;
  received: number[];
  cpuShare: number[];
  kernelDrops: number[];
  connPerSec: number[];
  p99Ms: number[];
  tcpErrors: number;
}
const runs: Run[] = [
  { name: 'serve --udp (mmsg)', args: ['--udp', '--udp-io', 'mmsg'] },
  { name: 'serve --udp --udp-io dgram', args: ['--udp', '--udp-io', 'dgram'] },
  { name: 'serve (no --udp)', args: [] },
].map((r, i) => ({
  ...r,
  netns: made(makeNetns(`flood${i}`)),
  cpuPerDatagram: [],
  busyLessLoad: [],
  threadsLost: 0,
  received: [],
  cpuShare: [],
  kernelDrops: [],
  connPerSec: [],
  p99Ms: [],
  tcpErrors: 0,
}));

try {
  for (const run of runs) run.server = await startServer(run.netns, PORT, run.args);
  for (let round = 1; round <= rounds; round++) {
    for (const run of runs) {
      const pid = run.server?.pid ?? 0;
      // The flood alone: what each datagram costs the server.
      const udp0 = udpCounters(pid);
      const started = performance.now();
      const m = await measure(pid, async () => {
        const sent = await dtflood(run.netns, PORT, seconds);
        await sleep(300); // the server empties its receive buffer
        return sent;
      });
      const wallUs = (performance.now() - started) * 1000;
      const udp1 = udpCounters(pid);
      const flood = m.value;
      const cpuUs = m.cpuUs;
      const received = udp1.inDatagrams - udp0.inDatagrams;
      if (received > 0) run.cpuPerDatagram.push(cpuUs / received);
      if (received > 0) run.busyLessLoad.push(m.busyLessLoadUs / received);
      run.threadsLost += m.threadsLost;
      run.received.push(received / seconds);
      run.cpuShare.push(cpuUs / wallUs);
      run.kernelDrops.push((udp1.rcvbufErrors - udp0.rcvbufErrors) / seconds);
      // TCP beside the same flood.
      const flooding = dtflood(run.netns, PORT, seconds + 2);
      await sleep(1000);
      const r = dtload(PORT, ['-c', '8', '-d', String(seconds)], { netns: run.netns.name });
      await flooding;
      run.connPerSec.push(r.rate ?? 0);
      run.p99Ms.push((r.p99_us ?? 0) / 1000);
      run.tcpErrors += r.errors ?? 0;
      process.stderr.write(
        `round ${round}/${rounds} ${run.name}: flood ${Math.round(flood.rate)}/s, read ${Math.round(received / seconds)}/s, ` +
          `${received > 0 ? (cpuUs / received).toFixed(2) : '-'} µs/datagram, CPU ${Math.round((100 * cpuUs) / wallUs)} %; ` +
          `TCP ${r.rate} conn/s, p99 ${((r.p99_us ?? 0) / 1000).toFixed(2)} ms\n`,
      );
    }
  }
  for (const run of runs) await run.server?.stop();

  // The limits: per source (64 sources x --udp-rate below --udp-global-rate) and in all (above it).
  const limits = [];
  const netns = runs[0]?.netns as Netns;
  for (const io of ['mmsg', 'dgram']) {
    for (const [rate, global] of [
      [10, 1000],
      [100, 1000],
    ] as const) {
      const args = ['--udp', '--udp-io', io, '--udp-rate', String(rate), '--udp-global-rate', String(global)];
      const server = await startServer(netns, PORT, args);
      const started = performance.now();
      let sent = 0;
      const replies = await countReplies(netns, PORT, async () => {
        sent = (await dtflood(netns, PORT, seconds)).sent;
        await sleep(300);
      });
      const window = (performance.now() - started) / 1000;
      await server.stop();
      const counts = Object.values(replies);
      const total = counts.reduce((a, b) => a + b, 0);
      // A bucket holds its burst at most, and refills at its rate: over any window of T seconds no more
      // than burst + rate x T go out (burst: twice the rate per source, one second's worth in all).
      const perSourceAllowed = Math.floor(2 * rate + rate * window);
      const globalAllowed = Math.floor(global + global * window);
      const check = {
        udpIo: io,
        udpRate: rate,
        udpGlobalRate: global,
        sent,
        windowSeconds: round2(window),
        sources: counts.length,
        replies: total,
        maxPerSource: Math.max(0, ...counts),
        perSourceAllowed,
        globalAllowed,
        within: counts.every((n) => n <= perSourceAllowed) && total <= globalAllowed,
      };
      limits.push(check);
      process.stderr.write(`limits ${JSON.stringify(check)}\n`);
    }
  }

  // `daytime watch` on the flooded port, sampling once a second while dtflood runs.
  const watched = await startServer(netns, PORT, ['--udp']);
  const flooding = dtflood(netns, PORT, 4);
  await sleep(500);
  const [command = '', ...args] = netns.exec([BIN, 'watch', String(PORT), '--json', '--count', '3']);
  const watch = execFileSync(command, args, { encoding: 'utf8', env: ENV })
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  await flooding;
  await watched.stop();

  const [mmsg, dgram, plain] = runs as [Run, Run, Run];
  const servers = runs.map((run) => ({
    server: run.name,
    cpuUsPerDatagram: run.cpuPerDatagram.length ? round2(median(run.cpuPerDatagram)) : null,
    machineBusyLessLoadGenUsPerDatagram: run.busyLessLoad.length ? round2(median(run.busyLessLoad)) : null,
    threadsLost: run.threadsLost,
    datagramsReadPerSec: Math.round(median(run.received)),
    serverCpuShare: round2(median(run.cpuShare)),
    kernelDropsPerSec: Math.round(median(run.kernelDrops)),
    tcpConnPerSec: Math.round(median(run.connPerSec)),
    tcpP99Ms: round2(median(run.p99Ms)),
    tcpErrors: run.tcpErrors,
    rounds: {
      cpuUsPerDatagram: run.cpuPerDatagram.map(round2),
      tcpConnPerSec: run.connPerSec,
      tcpP99Ms: run.p99Ms.map(round2),
    },
  }));
  const ratio = (a: Run, f: (r: Run) => number[]) => round2(median(f(a)) / median(f(plain)));
  const result = {
    date: new Date().toISOString(),
    cpu: cpuDetails(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    node: execFileSync(
      `${fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url))}`,
      ['--version'],
      {
        encoding: 'utf8',
      },
    ).trim(),
    rounds,
    seconds,
    servers,
    tcpVsNoUdp: {
      mmsg: { connPerSec: ratio(mmsg, (r) => r.connPerSec), p99: ratio(mmsg, (r) => r.p99Ms) },
      dgram: { connPerSec: ratio(dgram, (r) => r.connPerSec), p99: ratio(dgram, (r) => r.p99Ms) },
    },
    limits,
    watch: watch.map((s) => ({ udp: s.udp, perSecond: s.perSecond })),
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `${result.cpu.model} (family ${result.cpu.family}, model ${result.cpu.modelNumber}, ${result.cpu.cpus} CPUs); ` +
      `Linux ${result.kernel}; meltdown: ${result.cpu.mitigations.meltdown ?? '?'}; Node ${result.node}; ` +
      `${rounds} rounds of ${seconds} s, medians`,
    '',
    '| server | CPU µs/datagram | machine busy − load gen, µs/datagram | datagrams read/s | server CPU | kernel drops/s | TCP conn/s (-c 8) | TCP p99 ms |',
    '|---|---|---|---|---|---|---|---|',
    ...servers.map(
      (s) =>
        `| ${s.server} | ${s.cpuUsPerDatagram ?? '-'} | ${s.machineBusyLessLoadGenUsPerDatagram ?? '-'} | ${s.datagramsReadPerSec} | ${Math.round(s.serverCpuShare * 100)} % | ` +
        `${s.kernelDropsPerSec} | ${s.tcpConnPerSec} | ${s.tcpP99Ms} |`,
    ),
    '',
    ...cpuNotes(
      'datagram read',
      servers.map((s) => ({ name: s.server, ...s })),
    ),
    `TCP under the flood vs without --udp: mmsg ${result.tcpVsNoUdp.mmsg.connPerSec}x conn/s, ${result.tcpVsNoUdp.mmsg.p99}x p99; ` +
      `dgram ${result.tcpVsNoUdp.dgram.connPerSec}x, ${result.tcpVsNoUdp.dgram.p99}x`,
    ...result.watch.map(
      (w) =>
        `daytime watch during a flood: ${w.udp.map((u: { queuedBytes: number; receiveBuffer?: number; dropsPerSecond?: number }) => `${u.queuedBytes} of ${u.receiveBuffer ?? '?'} bytes waiting, ${u.dropsPerSecond ?? '-'} dropped/s`).join('; ')}; UdpRcvbufErrors ${w.perSecond.udpRcvbufErrors ?? '-'}/s`,
    ),
    ...limits.map(
      (l) =>
        `limits ${l.udpIo} --udp-rate ${l.udpRate} --udp-global-rate ${l.udpGlobalRate}: ${l.replies} replies to ${l.sent} datagrams ` +
        `in ${l.windowSeconds} s (allowed ${l.globalAllowed}), at most ${l.maxPerSource} to one of ${l.sources} sources ` +
        `(allowed ${l.perSourceAllowed}): ${l.within ? 'within' : 'EXCEEDED'}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const run of runs) run.server?.child.kill('SIGTERM');
  removeAll();
}
