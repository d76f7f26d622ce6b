// System calls per connection: `strace -c -f` attached to a running server while dtload makes a fixed
// number of connections. strace slows the server down, so batches grow and per-batch calls shrink a
// little; the per-connection calls are what the figure is for.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export const hasStrace = () => spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;

export interface SyscallCount {
  perConnection: number;
  // Calls per connection by system call, largest first.
  bySyscall: Record<string, number>;
}

export async function countSyscalls(pid: number, run: () => { all?: number }): Promise<SyscallCount> {
  const strace = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  strace.stderr.on('data', (chunk) => {
    report += chunk;
  });
  await sleep(500); // attached to every thread
  const connections = run().all ?? 1;
  await sleep(200);
  strace.kill('SIGINT');
  await once(strace, 'close');
  const bySyscall: Record<string, number> = {};
  let total = 0;
  for (const line of report.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const name = cols.at(-1) ?? '';
    // % time, seconds, usecs/call, calls, [errors,] syscall
    if (cols.length < 5 || !/^\d/.test(cols[0] ?? '') || name === 'total') continue;
    const calls = Number(cols[3]);
    bySyscall[name] = Math.round((calls / connections) * 1000) / 1000;
    total += calls;
  }
  return { perConnection: Math.round((total / connections) * 100) / 100, bySyscall };
}

// The same count without strace in the way: the kernel's raw_syscalls:sys_enter tracepoint counted by
// `perf stat` over every thread of the process. Batches stay as large as they really are at this load.
export const hasPerfTracepoints = () =>
  spawnSync('perf', ['stat', '-e', 'raw_syscalls:sys_enter', 'true'], { stdio: 'ignore' }).status === 0;

export async function countSyscallsPerf(pid: number, run: () => { all?: number }): Promise<number> {
  const perf = spawn('perf', ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter', '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let report = '';
  perf.stderr.on('data', (chunk) => {
    report += chunk;
  });
  await sleep(300);
  const connections = run().all ?? 1;
  perf.kill('SIGINT');
  await once(perf, 'close');
  const line = report.split('\n').find((l) => l.includes('raw_syscalls:sys_enter'));
  return Math.round((Number(line?.split(',')[0]) / connections) * 100) / 100;
}
