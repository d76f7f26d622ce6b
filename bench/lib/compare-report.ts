// bench/compare.ts's result and its table (markdown, as bench/README.md quotes it).
import type { Machine } from './machine.ts';
import { cpuNotes } from './measure.ts';
import { SCHEDSTAT_CLOCK } from './proc.ts';

export interface ServerRow {
  server: string;
  cpuUsPerConn: number;
  // Where the CPU was read: schedstat summed over threads, or the peer's cgroup.
  cpuClock: string;
  machineBusyLessLoadGenUsPerConn: number;
  vsDtref: number;
  vsDturing: number | null;
  syscallsPerConn: number | null;
  syscallsPerConnUnderLoad: number | null;
  switchesPerConn: number;
  connPerSec: number;
  p99Ms: number;
  p50SingleClientMs: number;
  p99SingleClientMs: number;
  errors: number;
  peakRssMiB: number;
  // Threads summed at the start of a round and gone at its end, over all rounds (their time is missing).
  threadsLost: number;
}

export interface ClientRow {
  connectPath: string;
  daytimeBench: number;
  dtload: number;
  ratio: number;
}

export interface CompareResult {
  date: string;
  machine: Machine;
  kernel: string;
  node: string;
  shebang: string;
  network: string;
  // /proc/loadavg's 1, 5 and 15 minute figures before and after: how busy the machine was.
  loadavg: { before: string; after: string };
  rounds: number;
  seconds: number;
  servers: ServerRow[];
  clients: ClientRow[];
  skipped: Record<string, string>;
}

const HEAD = [
  'server',
  'CPU µs/conn',
  'machine busy − load gen, µs/conn',
  'vs dtref',
  'vs dturing',
  'syscalls/conn (strace)',
  'syscalls/conn (perf, at load)',
  'ctx switches/conn',
  'conn/s',
  'p99 ms (-c 64)',
  'p50 / p99 ms (-c 1)',
  'errors',
  'peak RSS MiB',
];

const row = (s: ServerRow) => [
  s.server,
  s.cpuUsPerConn,
  s.machineBusyLessLoadGenUsPerConn,
  `${s.vsDtref}x`,
  s.vsDturing === null ? 'n/a' : `${s.vsDturing}x`,
  s.syscallsPerConn ?? 'n/a',
  s.syscallsPerConnUnderLoad ?? 'n/a',
  s.switchesPerConn,
  s.connPerSec,
  s.p99Ms,
  `${s.p50SingleClientMs} / ${s.p99SingleClientMs}`,
  s.errors,
  s.peakRssMiB,
];

const line = (cells: unknown[]) => `| ${cells.join(' | ')} |`;

export function formatCompare(result: CompareResult): string {
  const lines = [
    `${result.machine.label}; Node ${result.node}; ${result.rounds} rounds of ${result.seconds} s, medians; ` +
      `load average ${result.loadavg.before} before, ${result.loadavg.after} after`,
    `network: ${result.network}`,
    '',
    line(HEAD),
    line(HEAD.map(() => '---')),
    ...result.servers.map((s) => line(row(s))),
    '',
    ...cpuNotes(
      'connection',
      result.servers.map((s) => ({ name: s.server, threadsLost: s.threadsLost })),
    ),
    ...result.servers
      .filter((s) => s.cpuClock !== SCHEDSTAT_CLOCK)
      .map((s) => `${s.server}: CPU from ${s.cpuClock}`),
    ...result.clients.map(
      (c) =>
        `daytime bench --workers 2 --connect ${c.connectPath}: ${c.daytimeBench} conn/s; dtload -t 2: ${c.dtload} conn/s; ratio ${c.ratio}x (medians, against dtref -w 1)`,
    ),
    ...Object.entries(result.skipped).map(([what, why]) => `skipped ${what}: ${why}`),
  ];
  return `${lines.join('\n')}\n`;
}
