// A cgroup of the harness's own around a server that forks per connection (openbsd-inetd): the
// group's usage counts every task that was ever in it, forked children and exited ones included, on
// the scheduler's clock (v1 cpuacct.usage, or v2 cpu.stat's usage_usec). Summing the threads of the
// parent would miss every child. Made here and removed again (remove() also on failure, and twice is
// harmless).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { type CgroupMount, cpuCgroupMount, parseCgroupCpuStat, parseCpuacctUsage } from './cpu-clock.ts';

export interface CpuCgroup {
  dir: string;
  kind: CgroupMount['kind'];
  // Moves a process into the group; what it forks from then on is counted too.
  add(pid: number): void;
  usageUs(): number;
  // Waits (up to 2 s) for the group's processes to be gone, then deletes it; says what was left.
  remove(): string | undefined;
}

const mount = () =>
  process.platform === 'linux' ? cpuCgroupMount(readFileSync('/proc/self/mounts', 'utf8')) : undefined;

// Why a group of our own cannot be made here, or undefined when it can.
export function cpuCgroupUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux cgroups';
  if (process.getuid?.() !== 0) return 'needs root, to make a cgroup';
  if (!mount()) return 'no cgroup hierarchy with cpuacct (v1) or cgroup2 is mounted';
  return undefined;
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export function makeCpuCgroup(tag: string): CpuCgroup {
  const found = mount();
  if (!found) throw new Error(cpuCgroupUnavailable());
  const dir = `${found.dir}/dt${tag}${process.pid}`;
  mkdirSync(dir);
  const procs = () => readFileSync(`${dir}/cgroup.procs`, 'utf8').trim();
  return {
    dir,
    kind: found.kind,
    add: (pid) => writeFileSync(`${dir}/cgroup.procs`, String(pid)),
    usageUs: () =>
      (found.kind === 'cpuacct'
        ? parseCpuacctUsage(readFileSync(`${dir}/cpuacct.usage`, 'utf8'))
        : parseCgroupCpuStat(readFileSync(`${dir}/cpu.stat`, 'utf8'))) / 1000,
    remove() {
      if (!existsSync(dir)) return undefined;
      for (let i = 0; i < 40 && procs() !== ''; i++) pause(50);
      try {
        rmdirSync(dir);
        return undefined;
      } catch (error) {
        return `cgroup ${dir} left behind (processes ${procs().split('\n').join(', ')}): ${String(error)}`;
      }
    },
  };
}
