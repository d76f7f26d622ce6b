import { readdirSync, readFileSync } from 'node:fs';

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

// A process's descriptors, from /proc; undefined where /proc is absent.
export function readDescriptorUse(pid: number | 'self' = 'self'): DescriptorUse | undefined {
  try {
    const taken = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const limit = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Number.POSITIVE_INFINITY);
    let lowestFree = 0;
    while (taken.has(lowestFree)) lowestFree++;
    return { exhausted: lowestFree >= limit, open: taken.size, limit, lowestFree };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Looking needs a descriptor too: failing for want of one is the answer.
    return code === 'EMFILE' || code === 'ENFILE' ? { exhausted: true } : undefined;
  }
}
