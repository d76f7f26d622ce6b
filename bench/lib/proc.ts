// What /proc says about one server process, for the harnesses. Linux only.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

export interface CpuSample {
  userUs: number;
  sysUs: number;
  // Context switches of the main thread (voluntary + involuntary), as /proc/PID/status counts them.
  switches: number;
}

// utime and stime, plus those of waited-for children (a server that forks per connection).
export function cpuSample(pid: number): CpuSample {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const at = (i: number) => Number(fields[i]) * TICK_US;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    userUs: at(11) + at(13),
    sysUs: at(12) + at(14),
    switches: count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches'),
  };
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
