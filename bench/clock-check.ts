// Whether the tick-accounted figures of this kernel agree with the scheduler's clock, for the servers
// the harness measures: per round of `dtload -c 64 -t 2`, the CPU per connection of each server read
// four ways: schedstat summed over its threads (what the harnesses use), utime + stime of
// /proc/PID/stat (the whole process, as bench/lib/proc.ts read it before), and both for the main thread
// alone (/proc/PID/task/PID/...). A check of the clocks, not a figure to quote: bench/README.md says
// what it found. As root the servers run in a private network namespace, as in compare.ts.
//   node bench/clock-check.ts [--rounds 4] [--seconds 3]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeNetns, type Netns, netnsUnavailable } from '../src/kernel/netns.ts';
import { parseSchedstat } from './lib/cpu-clock.ts';
import { buildPerf, dtload } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { LOCAL_PEERS, type Peer, startLocal } from './lib/peers.ts';
import { cpuSample, median } from './lib/proc.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '3' } },
});
const CLOCK_TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const NAMES = ['dtref -w 1', 'daytime serve (uring)', 'daytime serve (libc)'];

// utime + stime (fields 14 and 15) in µs; the command name may hold spaces, so read after the last ') '.
const statUs = (path: string) => {
  const text = readFileSync(path, 'utf8');
  const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
};
const read = (pid: number) => ({
  schedstat: cpuSample(pid).cpuUs,
  stat: statUs(`/proc/${pid}/stat`),
  mainSchedstat: parseSchedstat(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8')) / 1000,
  mainStat: statUs(`/proc/${pid}/task/${pid}/stat`),
});
type Reading = ReturnType<typeof read>;

buildPerf();
const noNetns = netnsUnavailable('ip netns');
let netns: Netns | undefined;
const peers: Peer[] = [];
const stop = () => {
  for (const peer of peers) peer.child.kill('SIGTERM');
  netns?.remove();
};
process.once('SIGINT', () => {
  stop();
  process.exit(130);
});
try {
  netns = noNetns ? undefined : makeNetns('clk');
  for (const spec of LOCAL_PEERS.filter((s) => NAMES.includes(s.name)))
    peers.push(await startLocal(spec, netns));
  const perConn = new Map<string, Reading[]>(peers.map((p) => [p.name, []]));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const peer of peers) {
      const before = read(peer.pid);
      const r = dtload(peer.port, ['-c', '64', '-d', String(values.seconds), '-t', '2'], {
        netns: peer.netns,
      });
      const after = read(peer.pid);
      const n = Math.max(1, r.all ?? 1);
      const delta = Object.fromEntries(
        Object.keys(before).map((k) => [k, (after[k as keyof Reading] - before[k as keyof Reading]) / n]),
      ) as Reading;
      perConn.get(peer.name)?.push(delta);
      process.stderr.write(`round ${round} ${peer.name}: ${JSON.stringify(delta)}\n`);
    }
  }
  const cell = (rows: Reading[], key: keyof Reading) => median(rows.map((r) => r[key])).toFixed(2);
  const lines = [
    `${describeMachine().label}; ${values.rounds} rounds of dtload -c 64 -d ${values.seconds} -t 2, medians, µs/conn; ` +
      `${netns ? 'in a private network namespace' : `on loopback (${noNetns})`}`,
    '',
    '| server | schedstat, threads summed | /proc/PID/stat utime+stime | main thread: schedstat | main thread: stat |',
    '|---|---:|---:|---:|---:|',
    ...[...perConn].map(
      ([name, rows]) =>
        `| ${name} | ${cell(rows, 'schedstat')} | ${cell(rows, 'stat')} | ${cell(rows, 'mainSchedstat')} | ${cell(rows, 'mainStat')} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  stop();
}
