// One measured interval of a harness: the server's CPU on the scheduler's clock around `run`, and the
// rough machine-wide cross-check beside it (bench/lib/machine-busy.ts), both in µs over the interval.
import { busyLessLoadGen, machineSample } from './machine-busy.ts';
import { type CpuSample, cpuSample, lostThreads, SCHEDSTAT_CLOCK } from './proc.ts';

export interface Interval<T> {
  value: T;
  cpuUs: number;
  // The machine's busy time less the load generator's (this process and the children it reaped).
  busyLessLoadUs: number;
  // Main-thread context switches of the server.
  switches: number;
  // Threads summed at the start and gone at the end: their time is missing from cpuUs.
  threadsLost: number;
}

// `server`: its PID (threads summed), or a reader of its CPU (a cgroup's, say).
export async function measure<T>(
  server: number | (() => CpuSample),
  run: () => T | Promise<T>,
): Promise<Interval<T>> {
  const read = typeof server === 'number' ? () => cpuSample(server) : server;
  const before = read();
  const machine0 = machineSample();
  const value = await run();
  const machine1 = machineSample();
  const after = read();
  return {
    value,
    cpuUs: after.cpuUs - before.cpuUs,
    busyLessLoadUs: busyLessLoadGen(machine0, machine1, 1),
    switches: after.switches - before.switches,
    threadsLost: lostThreads(before, after),
  };
}

// The lines printed under every CPU table: which clocks, and which rows lost a thread's time.
export const cpuNotes = (unit: string, rows: { name: string; threadsLost: number }[]) => [
  `CPU: the scheduler's clock (${SCHEDSTAT_CLOCK}, unless said otherwise). machine busy − load gen: ` +
    `/proc/stat's busy time less the load generator's and the harness's own getrusage, per ${unit}: ` +
    'tick-sampled on every CPU and machine-wide, so only rough.',
  ...rows
    .filter((row) => row.threadsLost > 0)
    .map((row) => `${row.name}: ${row.threadsLost} thread(s) exited during a round; their time is missing`),
];
