// Compares daytime serve (on its uring, libc and handle accept paths) with the C reference servers
// (dtref -w 1 on epoll, dturing on io_uring where liburing-dev is installed), openbsd-inetd's internal
// daytime (as root), a naive Node server and the classic Python server, in alternating rounds under
// the C load generator (dtload -c 64 -t 2); as root all of them inside a private network namespace
// made here and removed again, otherwise on the machine's loopback. CPU per connection is the
// scheduler's clock (bench/lib/proc.ts; inetd's cgroup), and beside it the machine's busy time less
// the load generator's (bench/lib/machine-busy.ts). Then one client at a time (p99 latency), system
// calls per connection (strace, perf), and daytime bench --workers 2 (libc and uring connect paths)
// against dtload -t 2 on dtref. Every result records the machine (bench/lib/machine.ts). See
// bench/README.md for what each figure means.
//   node bench/compare.ts [--rounds 6] [--seconds 4] [--json FILE]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeNetns, netnsUnavailable } from '../src/kernel/netns.ts';
import { uringSupport } from '../src/kernel/uring-support.ts';
import { benchAgainstDtload } from './lib/client-rounds.ts';
import { type CompareResult, formatCompare } from './lib/compare-report.ts';
import { buildDturing, buildPerf, dtload } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { measure } from './lib/measure.ts';
import {
  cpuClockOf,
  inetdUnavailable,
  LOCAL_PEERS,
  type Peer,
  peerCpu,
  startInetd,
  startLocal,
} from './lib/peers.ts';
import { median, peakRssMiB } from './lib/proc.ts';
import {
  countSyscalls,
  countSyscallsPerf,
  hasPerfTracepoints,
  hasStrace,
  type SyscallCount,
} from './lib/strace.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '4' },
    json: { type: 'string' },
    // Only the servers whose name contains one of these (comma-separated; dtref always, the reference):
    // for a quick look while working. The figures the READMEs quote come from a run of all of them.
    only: { type: 'string', default: '' },
    // Leave out the lone-client rounds, the system-call counts and the load generator's own rounds.
    quick: { type: 'boolean', default: false },
  },
});
const only = String(values.only).split(',').filter(Boolean);
const wanted = (name: string) =>
  only.length === 0 || name.startsWith('dtref') || only.some((o) => name.includes(o));
const rounds = Number(values.rounds);
const seconds = String(Number(values.seconds));
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface Samples {
  cpu: number[];
  // Machine-wide busy time less the load generator's, per connection (the rough cross-check).
  busyLessLoad: number[];
  switches: number[];
  rate: number[];
  p99: number[];
  p50Single: number[];
  p99Single: number[];
  errors: number;
  threadsLost: number;
}

buildPerf();
const noDturing = buildDturing();
const uring = await uringSupport();
const noUring = uring.ok ? undefined : uring.reason;
const noChains = noUring ?? (uring.ok && uring.chains !== true ? uring.chains.reason : undefined);
// Why a peer cannot run here, or undefined.
const unavailable = (name: string) =>
  name === 'dturing' || name === 'dtchain'
    ? noDturing
    : name.endsWith('(uring)')
      ? noChains
      : name.includes('uring')
        ? noUring
        : undefined;
const noNetns = netnsUnavailable('ip netns');
const peers: Peer[] = [];
const cleanups: (() => void)[] = [];
const cleanup = () => {
  for (const peer of peers) peer.child.kill('SIGTERM');
  for (const stop of cleanups.splice(0).reverse()) stop();
};
process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});
const skipped: Record<string, string> = {};
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const loadBefore = loadavg();
try {
  const netns = noNetns ? undefined : makeNetns('cmp');
  if (netns) cleanups.push(netns.remove);
  const network = netns
    ? `a private network namespace made for the run (${netns.name})`
    : `the machine's loopback (no namespace: ${noNetns})`;
  for (const spec of LOCAL_PEERS.filter((s) => wanted(s.name))) {
    const why = unavailable(spec.name);
    if (why) skipped[spec.name] = why;
    else peers.push(await startLocal(spec, netns));
  }
  const noInetd = wanted('openbsd-inetd (internal)') ? inetdUnavailable() : 'not asked for (--only)';
  if (noInetd) skipped['openbsd-inetd (internal)'] = noInetd;
  else {
    const inetd = await startInetd(netns);
    cleanups.push(inetd.stop);
    peers.splice(1, 0, inetd.peer);
  }
  const samples = new Map<string, Samples>(
    peers.map((p) => [
      p.name,
      {
        cpu: [],
        busyLessLoad: [],
        switches: [],
        rate: [],
        p99: [],
        p50Single: [],
        p99Single: [],
        errors: 0,
        threadsLost: 0,
      },
    ]),
  );
  const load = (peer: Peer, args: string[]) => dtload(peer.port, args, { netns: peer.netns });
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      const s = samples.get(peer.name) as Samples;
      const m = await measure(
        () => peerCpu(peer),
        () => load(peer, ['-c', '64', '-d', seconds, '-t', '2']),
      );
      const r = m.value;
      const n = Math.max(1, r.all ?? 1);
      s.cpu.push(m.cpuUs / n);
      s.busyLessLoad.push(m.busyLessLoadUs / n);
      s.threadsLost += m.threadsLost;
      s.switches.push(m.switches / n);
      s.rate.push(r.rate ?? 0);
      s.p99.push((r.p99_us ?? 0) / 1000);
      s.errors += r.errors ?? 0;
      process.stderr.write(
        `round ${round}/${rounds} ${peer.name}: ${s.cpu.at(-1)?.toFixed(1)} µs/conn ` +
          `(machine busy − load gen ${s.busyLessLoad.at(-1)?.toFixed(1)}), ${r.rate} conn/s, ${r.errors} errors\n`,
      );
    }
  }
  // One client at a time: nothing to batch; what a lone connection waits for. Rounds of their own, so
  // no server meets the lone client straight after the load of its own round.
  for (let round = 1; round <= rounds; round++) {
    for (const peer of peers) {
      const s = samples.get(peer.name) as Samples;
      const single = load(peer, ['-c', '1', '-d', seconds, '-t', '1']);
      s.p50Single.push((single.p50_us ?? 0) / 1000);
      s.p99Single.push((single.p99_us ?? 0) / 1000);
      s.errors += single.errors ?? 0;
    }
    process.stderr.write(`single-client round ${round}/${rounds}\n`);
  }
  const syscalls = new Map<string, SyscallCount>();
  if (values.quick) skipped.syscalls = 'not counted (--quick)';
  else if (hasStrace()) {
    for (const peer of peers) {
      const count = await countSyscalls(peer.pid, () => load(peer, ['-c', '64', '-n', '20000', '-t', '2']));
      syscalls.set(peer.name, count);
      process.stderr.write(`strace ${peer.name}: ${count.perConnection} system calls per connection\n`);
    }
  } else skipped.syscalls = 'strace is not installed';
  const syscallsUnderLoad = new Map<string, number>();
  if (hasPerfTracepoints()) {
    for (const peer of peers) {
      const perConnection = await countSyscallsPerf(peer.pid, () =>
        load(peer, ['-c', '64', '-d', seconds, '-t', '2']),
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
      cpuClock: cpuClockOf(peer),
      machineBusyLessLoadGenUsPerConn: round2(median(s.busyLessLoad)),
      vsDtref: round2(cpu / ref),
      vsDturing: uringRef === undefined ? null : round2(cpu / uringRef),
      syscallsPerConn: syscalls.get(peer.name)?.perConnection ?? null,
      syscallsPerConnUnderLoad: syscallsUnderLoad.get(peer.name) ?? null,
      syscalls: syscalls.get(peer.name)?.bySyscall ?? null,
      switchesPerConn: round3(median(s.switches)),
      connPerSec: Math.round(median(s.rate)),
      p99Ms: round3(median(s.p99)),
      p50SingleClientMs: round3(median(s.p50Single)),
      p99SingleClientMs: round3(median(s.p99Single)),
      p99SingleClientRounds: s.p99Single,
      errors: s.errors,
      peakRssMiB: Math.round(peakRssMiB(peer.pid) * 10) / 10,
      threadsLost: s.threadsLost,
      cpuRounds: s.cpu.map(round2),
      machineBusyLessLoadGenRounds: s.busyLessLoad.map(round2),
    };
  });
  const dtref = peers.find((p) => p.name === 'dtref -w 1') as Peer;
  const clients = values.quick
    ? []
    : benchAgainstDtload({
        port: dtref.port,
        netns,
        connects: noUring ? ['libc'] : ['libc', 'uring'],
        rounds: Math.max(2, Math.ceil(rounds / 2)),
        seconds,
      });
  const machine = describeMachine();
  const result: CompareResult = {
    date: new Date().toISOString(),
    machine,
    kernel: machine.kernel,
    node: execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim(),
    // The Node flags daytime serve and daytime bench ran with.
    shebang: readFileSync(BIN, 'utf8').split('\n')[0] ?? '',
    network,
    loadavg: { before: loadBefore, after: loadavg() },
    rounds,
    seconds: Number(seconds),
    servers,
    clients,
    skipped,
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(formatCompare(result));
} finally {
  cleanup();
}
