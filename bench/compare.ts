// Compares daytime serve (on its uring, libc and handle accept paths) with the C reference servers
// (dtref -w 1 on epoll, dturing on io_uring where liburing-dev is installed), openbsd-inetd's internal
// daytime (as root, in a network namespace), a naive Node server and the classic Python server, in
// alternating rounds under the C load generator (dtload); then one client at a time (p99 latency),
// system calls per connection (strace, perf), and daytime bench --workers 2 (libc and uring connect
// paths) against dtload -t 2 on dtref. Every result records the machine (bench/lib/machine.ts). See
// bench/README.md for what each figure means.
//   node bench/compare.ts [--rounds 8] [--seconds 5] [--json FILE]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { uringSupport } from '../src/kernel/uring-support.ts';
import { buildDturing, buildPerf, dtload } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { ENV, inetdUnavailable, LOCAL_PEERS, type Peer, startInetd, startLocal } from './lib/peers.ts';
import { cpuSample, median, peakRssMiB } from './lib/proc.ts';
import {
  countSyscalls,
  countSyscallsPerf,
  hasPerfTracepoints,
  hasStrace,
  type SyscallCount,
} from './lib/strace.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = String(Number(values.seconds));
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const round2 = (x: number) => Math.round(x * 100) / 100;

interface Samples {
  cpu: number[];
  switches: number[];
  rate: number[];
  p99: number[];
  p50Single: number[];
  p99Single: number[];
  errors: number;
}

buildPerf();
const noDturing = buildDturing();
const uring = await uringSupport();
const noUring = uring.ok ? undefined : uring.reason;
const peers: Peer[] = [];
const cleanups: (() => void)[] = [];
const cleanup = () => {
  for (const peer of peers) peer.child.kill('SIGTERM');
  for (const stop of cleanups.splice(0)) stop();
};
process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});
const skipped: Record<string, string> = {};
try {
  for (const spec of LOCAL_PEERS) {
    const why = spec.name === 'dturing' ? noDturing : spec.name.includes('uring') ? noUring : undefined;
    if (why) skipped[spec.name] = why;
    else peers.push(await startLocal(spec));
  }
  const noInetd = inetdUnavailable();
  if (noInetd) skipped['openbsd-inetd (internal)'] = noInetd;
  else {
    const inetd = await startInetd();
    cleanups.push(inetd.stop);
    peers.splice(1, 0, inetd.peer);
  }
  const samples = new Map<string, Samples>(
    peers.map((p) => [
      p.name,
      {
        cpu: [],
        switches: [],
        rate: [],
        p99: [],
        p50Single: [],
        p99Single: [],
        errors: 0,
      },
    ]),
  );
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      const s = samples.get(peer.name) as Samples;
      const before = cpuSample(peer.pid);
      const r = dtload(peer.port, ['-c', '64', '-d', seconds, '-t', '2'], { netns: peer.netns });
      const after = cpuSample(peer.pid);
      const n = Math.max(1, r.all ?? 1);
      s.cpu.push((after.cpuUs - before.cpuUs) / n);
      s.switches.push((after.switches - before.switches) / n);
      s.rate.push(r.rate ?? 0);
      s.p99.push((r.p99_us ?? 0) / 1000);
      s.errors += r.errors ?? 0;
      process.stderr.write(
        `round ${round}/${rounds} ${peer.name}: ${s.cpu.at(-1)?.toFixed(1)} µs/conn, ${r.rate} conn/s, ${r.errors} errors\n`,
      );
    }
  }
  // One client at a time: nothing to batch; what a lone connection waits for. Rounds of their own, so
  // no server meets the lone client straight after the load of its own round.
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      const s = samples.get(peer.name) as Samples;
      const single = dtload(peer.port, ['-c', '1', '-d', seconds, '-t', '1'], { netns: peer.netns });
      s.p50Single.push((single.p50_us ?? 0) / 1000);
      s.p99Single.push((single.p99_us ?? 0) / 1000);
      s.errors += single.errors ?? 0;
    }
    process.stderr.write(`single-client round ${round}/${rounds}\n`);
  }
  const syscalls = new Map<string, SyscallCount>();
  if (hasStrace()) {
    for (const peer of peers) {
      const count = await countSyscalls(peer.pid, () =>
        dtload(peer.port, ['-c', '64', '-n', '20000', '-t', '2'], { netns: peer.netns }),
      );
      syscalls.set(peer.name, count);
      process.stderr.write(`strace ${peer.name}: ${count.perConnection} system calls per connection\n`);
    }
  } else skipped.syscalls = 'strace is not installed';
  const syscallsUnderLoad = new Map<string, number>();
  if (hasPerfTracepoints()) {
    for (const peer of peers) {
      const perConnection = await countSyscallsPerf(peer.pid, () =>
        dtload(peer.port, ['-c', '64', '-d', seconds, '-t', '2'], { netns: peer.netns }),
      );
      syscallsUnderLoad.set(peer.name, perConnection);
      process.stderr.write(`perf ${peer.name}: ${perConnection} system calls per connection\n`);
    }
  } else skipped.syscallsUnderLoad = 'perf cannot count the raw_syscalls tracepoint here';
  const ref = median(samples.get('dtref -w 1')?.cpu ?? [1]);
  const uringRef = samples.get('dturing') ? median(samples.get('dturing')?.cpu ?? [1]) : undefined;
  const servers = peers.map((peer) => {
    const s = samples.get(peer.name) as Samples;
    const cpu = median(s.cpu);
    return {
      server: peer.name,
      cpuUsPerConn: round2(cpu),
      vsDtref: round2(cpu / ref),
      vsDturing: uringRef === undefined ? null : round2(cpu / uringRef),
      syscallsPerConn: syscalls.get(peer.name)?.perConnection ?? null,
      syscallsPerConnUnderLoad: syscallsUnderLoad.get(peer.name) ?? null,
      syscalls: syscalls.get(peer.name)?.bySyscall ?? null,
      switchesPerConn: Math.round(median(s.switches) * 1000) / 1000,
      connPerSec: Math.round(median(s.rate)),
      p99Ms: Math.round(median(s.p99) * 1000) / 1000,
      p50SingleClientMs: Math.round(median(s.p50Single) * 1000) / 1000,
      p99SingleClientMs: Math.round(median(s.p99Single) * 1000) / 1000,
      p99SingleClientRounds: s.p99Single,
      errors: s.errors,
      peakRssMiB: Math.round(peakRssMiB(peer.pid) * 10) / 10,
      cpuRounds: s.cpu.map(round2),
    };
  });

  // The client side: daytime bench --workers 2 (on each connect path that runs here) against
  // dtload -t 2, all on dtref, in alternating rounds.
  const dtref = peers.find((p) => p.name === 'dtref -w 1') as Peer;
  const connects = noUring ? ['libc'] : ['libc', 'uring'];
  const benchRates = new Map<string, number[]>(connects.map((c) => [c, []]));
  const loadRates: number[] = [];
  for (let round = 1; round <= Math.max(2, Math.ceil(rounds / 2)); round++) {
    for (const connect of connects) {
      const out = execFileSync(
        BIN,
        [
          'bench',
          `127.0.0.1:${dtref.port}`,
          '--workers',
          '2',
          '-c',
          '64',
          '-d',
          seconds,
          '--connect',
          connect,
          '--json',
        ],
        { encoding: 'utf8', env: ENV },
      );
      benchRates.get(connect)?.push(JSON.parse(out).connPerSec);
    }
    loadRates.push(dtload(dtref.port, ['-c', '64', '-d', seconds, '-t', '2']).rate ?? 0);
    process.stderr.write(
      `bench round ${round}: ${connects.map((c) => `daytime bench --connect ${c} ${benchRates.get(c)?.at(-1)} conn/s`).join(', ')}, dtload ${loadRates.at(-1)} conn/s\n`,
    );
  }
  const clients = connects.map((connectPath) => {
    const rates = benchRates.get(connectPath) ?? [];
    return {
      connectPath,
      daytimeBench: Math.round(median(rates)),
      dtload: Math.round(median(loadRates)),
      ratio: round2(median(rates) / median(loadRates)),
      ratioRounds: rates.map((b, i) => round2(b / (loadRates[i] ?? 1))),
    };
  });
  const machine = describeMachine();
  const result = {
    date: new Date().toISOString(),
    machine,
    kernel: machine.kernel,
    node: execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim(),
    // The Node flags daytime serve and daytime bench ran with.
    shebang: readFileSync(BIN, 'utf8').split('\n')[0],
    rounds,
    seconds: Number(seconds),
    servers,
    clients,
    skipped,
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    `${machine.label}; Node ${result.node}; ${rounds} rounds of ${seconds} s, medians`,
    '',
    '| server | CPU µs/conn | vs dtref | vs dturing | syscalls/conn (strace) | syscalls/conn (perf, at load) | ctx switches/conn | conn/s | p99 ms (-c 64) | p50 / p99 ms (-c 1) | errors | peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...servers.map(
      (s) =>
        `| ${s.server} | ${s.cpuUsPerConn} | ${s.vsDtref}x | ${s.vsDturing ?? 'n/a'}${s.vsDturing === null ? '' : 'x'} | ${s.syscallsPerConn ?? 'n/a'} | ${s.syscallsPerConnUnderLoad ?? 'n/a'} | ${s.switchesPerConn} | ${s.connPerSec} | ${s.p99Ms} | ${s.p50SingleClientMs} / ${s.p99SingleClientMs} | ${s.errors} | ${s.peakRssMiB} |`,
    ),
    '',
    ...clients.map(
      (c) =>
        `daytime bench --workers 2 --connect ${c.connectPath}: ${c.daytimeBench} conn/s; dtload -t 2: ${c.dtload} conn/s; ratio ${c.ratio}x (medians, against dtref -w 1)`,
    ),
    ...Object.entries(skipped).map(([what, why]) => `skipped ${what}: ${why}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  cleanup();
}
