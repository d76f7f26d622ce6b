import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { SocketCalls } from './socket-calls.ts';

export interface DescriptorUse {
  // No descriptor can be allocated now: the lowest free number is at the limit, or reading /proc
  // itself failed with EMFILE or ENFILE.
  exhausted: boolean;
  open?: number;
  // The soft RLIMIT_NOFILE: descriptor numbers from here on cannot be allocated.
  limit?: number;
  // The lowest free descriptor number: what the next accept() would get.
  lowestFree?: number;
}

const readLimit = (pid: number | 'self') =>
  Number(
    /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ??
      Number.POSITIVE_INFINITY,
  );
const exhaustedByError = (error: unknown): DescriptorUse | undefined => {
  const code = (error as NodeJS.ErrnoException).code;
  // Looking needs a descriptor too: failing for want of one is the answer.
  return code === 'EMFILE' || code === 'ENFILE' ? { exhausted: true } : undefined;
};

// A process's descriptors, from /proc; undefined where /proc is absent. Lists /proc/PID/fd: milliseconds
// with thousands open, so not for the event loop of a busy server (see checkDescriptors).
export function readDescriptorUse(pid: number | 'self' = 'self'): DescriptorUse | undefined {
  try {
    const taken = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    const limit = readLimit(pid);
    let lowestFree = 0;
    while (taken.has(lowestFree)) lowestFree++;
    return { exhausted: lowestFree >= limit, open: taken.size, limit, lowestFree };
  } catch (error) {
    return exhaustedByError(error);
  }
}

// How many descriptors this process has open. Since Linux 6.2 the size of /proc/self/fd is that count
// (the kernel counts its bitmap: microseconds at any number); listing the directory instead, as
// prom-client's process_open_fds does, took 6 ms for 3,000 open here, on the event loop, and the uring
// path holds that many in the middle of a burst. Older kernels report size 0: listed then (less the
// descriptor the listing holds). Undefined where /proc is absent.
export function countOpenDescriptors(): number | undefined {
  try {
    const size = statSync('/proc/self/fd').size;
    return size > 0 ? size : readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

// The same answer as readDescriptorUse('self') for whether descriptors are exhausted, without listing
// them while the count shows room: every number below the lowest free one is open, so the lowest free
// number is at most the count, and a count below the limit means room. Only at the limit is the table
// listed.
export function checkDescriptors(): DescriptorUse | undefined {
  try {
    const open = countOpenDescriptors();
    const limit = readLimit('self');
    if (open !== undefined && open < limit) return { exhausted: false, open, limit };
  } catch (error) {
    return exhaustedByError(error);
  }
  return readDescriptorUse();
}

// Grows this process's descriptor table now, so that numbers below `size` (at most the soft
// RLIMIT_NOFILE) need no growth later. The kernel grows the table by doubling as higher numbers are
// taken, and in a process with more than one thread (Node always has several) each doubling waits for
// an RCU grace period (expand_files: synchronize_rcu), 5 to 25 ms each on this machine type, with the
// thread that took the descriptor stopped: the event loop. A first burst of 2,000 connections taken at
// once (the uring path's multishot accept, in one io_uring_enter) paid six of them, 55-60 ms, in the
// middle of serving (bench/README.md, "Scrapes during a burst"). Grown here, the table costs one, once:
// it never shrinks. False where it could not be grown (no libc calls, no /proc, no descriptor left).
export function reserveDescriptors(calls: Pick<SocketCalls, 'dup' | 'close'>, size: number): boolean {
  let fd = -1;
  try {
    const highest = Math.min(size, readLimit('self')) - 1;
    fd = openSync('/dev/null', 'r');
    if (highest <= fd) return true;
    // F_DUPFD_CLOEXEC takes the lowest free number from `highest` on: nothing open is touched.
    const copy = calls.dup(fd, highest);
    if (copy < 0) return false;
    calls.close(copy);
    return true;
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
