// The kernel's CPU counters as text, parsed (pure functions; the readers are proc.ts, cgroup.ts and
// machine-busy.ts). CPU time for a figure comes from the scheduler's clock (sum_exec_runtime, counted
// in ns at every switch), never from tick samples: see bench/README.md, "What each column measures".
import { DaytimeError } from '../../src/errors.ts';

const bad = (what: string, text: string) =>
  new DaytimeError('ERR_CPU_CLOCK_FORMAT', `not ${what}: ${JSON.stringify(text.slice(0, 80))}`);

// /proc/PID/task/TID/schedstat: "<ns on the CPU> <ns waiting for a CPU> <timeslices>". The first field.
export function parseSchedstat(text: string): number {
  const match = /^(\d+) (\d+) (\d+)\n?$/.exec(text);
  if (!match) throw bad('a schedstat line', text);
  return Number(match[1]);
}

// cgroup v1 cpuacct.usage: ns on the CPU of every task that was ever in the group (children included,
// and those that have exited).
export function parseCpuacctUsage(text: string): number {
  const match = /^(\d+)\n?$/.exec(text);
  if (!match) throw bad('a cpuacct.usage value', text);
  return Number(match[1]);
}

// cgroup v2 cpu.stat: "usage_usec N" and further "key N" lines; the usage in ns. (Its user_usec and
// system_usec divide that usage in the proportion of tick samples, so they are not read.)
export function parseCgroupCpuStat(text: string): number {
  const lines = text.split('\n').filter(Boolean);
  if (lines.length === 0 || !lines.every((line) => /^\w+ \d+$/.test(line))) throw bad('a cpu.stat', text);
  const usage = lines.find((line) => line.startsWith('usage_usec '));
  if (!usage) throw bad('a cpu.stat with usage_usec', text);
  return Number(usage.split(' ')[1]) * 1000;
}

// The machine-wide line of /proc/stat, in USER_HZ units (sampled at every CPU's tick: rough).
export interface MachineTimes {
  // user + nice + system + irq + softirq: what this machine's CPUs did for its own tasks and interrupts.
  busy: number;
  idle: number;
  iowait: number;
  // Time the hypervisor gave this guest's CPUs to someone else: not work done here, so not busy.
  steal: number;
}

// "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest time is already in
// user and nice, so it is not added again).
export function parseProcStat(text: string): MachineTimes {
  const line = /^cpu +(\d+(?: \d+){7,})$/m.exec(text)?.[1];
  if (!line) throw bad('/proc/stat with a cpu line', text);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .split(' ')
    .map(Number);
  return { busy: user + nice + system + irq + softirq, idle, iowait, steal };
}

export interface CgroupMount {
  // cpuacct: a v1 hierarchy with the cpuacct controller (cpuacct.usage); cgroup2: the unified one
  // (cpu.stat is there in every group, the cpu controller enabled or not).
  kind: 'cpuacct' | 'cgroup2';
  dir: string;
}

// From /proc/self/mounts, the hierarchy a group of our own can be made in: v1's cpuacct where it is
// mounted (ns, as schedstat), else the unified hierarchy.
export function cpuCgroupMount(mounts: string): CgroupMount | undefined {
  const rows = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 4);
  const v1 = rows.find(([, , type, options]) => type === 'cgroup' && options?.split(',').includes('cpuacct'));
  if (v1?.[1]) return { kind: 'cpuacct', dir: v1[1] };
  const v2 = rows.find(([, , type]) => type === 'cgroup2');
  return v2?.[1] ? { kind: 'cgroup2', dir: v2[1] } : undefined;
}
