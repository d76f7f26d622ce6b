// What /proc says about one server process, for the harnesses. Linux only.
import { readdirSync, readFileSync } from 'node:fs';
import { parseSchedstat } from './cpu-clock.ts';

export interface CpuSample {
  // CPU time from the scheduler's clock: the first field of /proc/PID/task/*/schedstat, summed over
  // the threads alive at the sample. Not utime + stime: those are split between user and system by
  // tick samples, and a tick-sampled figure is what bench/README.md says not to quote.
  cpuUs: number;
  // The threads summed. One that exits between two samples takes its time with it (lostThreads).
  tids: number[];
  // Context switches of the main thread (voluntary + involuntary), as /proc/PID/status counts them.
  switches: number;
}

const readOr = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the thread exited between the listing and the read
  }
};

// How a figure from cpuSample is described beside it.
export const SCHEDSTAT_CLOCK = 'schedstat summed over its threads';

export function cpuSample(pid: number): CpuSample {
  let ns = 0;
  const tids: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readOr(`/proc/${pid}/task/${tid}/schedstat`);
    if (text === undefined) continue;
    ns += parseSchedstat(text);
    tids.push(Number(tid));
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    cpuUs: ns / 1000,
    tids,
    switches: count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches'),
  };
}

// Threads summed in `before` and gone by `after`: their time in between is missing from the difference
// (threads born and gone in between are not seen at all). The harnesses measure long-lived servers.
export const lostThreads = (before: CpuSample, after: CpuSample) =>
  before.tids.filter((tid) => !after.tids.includes(tid)).length;

// PID and every process below it (by the parent PIDs of /proc/*/stat, read after the last ') ', since
// a command name may hold spaces and parentheses).
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOr(`/proc/${entry}/stat`);
    const ppid = Number(stat?.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]);
    if (ppid) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? 0) ?? []));
  return tree;
}

export const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
export const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
export const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
