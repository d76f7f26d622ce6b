// The rough cross-check printed beside every CPU table: the machine's busy time over the interval
// (/proc/stat, all CPUs: user + nice + system + irq + softirq) less what the load generator and the
// harness itself used (getrusage of this process and of its waited-for children, dtload or dtflood:
// the scheduler's clock), per connection. What is left is the server's share plus kernel work done on
// its behalf in softirqs that land in nobody's account, plus whatever else the machine ran. /proc/stat
// is sampled at every CPU's tick, so this is only rough; it is fair while both CPUs stay busy.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import koffi from 'koffi';
import { parseProcStat } from './cpu-clock.ts';

const USER_HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
const RUSAGE_CHILDREN = -1;

export interface MachineSample {
  busyUs: number;
  // This process's CPU and its reaped children's (the load generators it ran to completion).
  loadGenUs: number;
}

let getrusage: ((who: number, usage: Buffer) => number) | undefined;
// getrusage(RUSAGE_CHILDREN) through koffi (Node has only RUSAGE_SELF): ru_utime + ru_stime, whose sum
// the kernel scales to the children's sum_exec_runtime when it reaps them.
function childrenUs(): number {
  getrusage ??= koffi.load('libc.so.6').func('getrusage', 'int', ['int', 'void *']);
  const usage = Buffer.alloc(256); // struct rusage: two timevals first, 144 bytes on 64-bit Linux
  if (getrusage(RUSAGE_CHILDREN, usage) !== 0) throw new Error('getrusage(RUSAGE_CHILDREN) failed');
  const timeval = (at: number) =>
    Number(usage.readBigInt64LE(at)) * 1e6 + Number(usage.readBigInt64LE(at + 8));
  return timeval(0) + timeval(16);
}

// The busy time of all CPUs since boot, in µs (a multiple of 1/USER_HZ s).
export const machineBusyUs = () => (parseProcStat(readFileSync('/proc/stat', 'utf8')).busy * 1e6) / USER_HZ;

export function machineSample(): MachineSample {
  const self = process.cpuUsage();
  return { busyUs: machineBusyUs(), loadGenUs: childrenUs() + self.user + self.system };
}

// (busy − load generator) over the interval, per unit (connection, datagram).
export const busyLessLoadGen = (before: MachineSample, after: MachineSample, units: number) =>
  (after.busyUs - before.busyUs - (after.loadGenUs - before.loadGenUs)) / Math.max(1, units);
