import { readdirSync, readFileSync, statSync } from 'node:fs';

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
