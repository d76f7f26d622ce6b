import { Ring } from './uring.ts';
import type { UringSyscalls } from './uring-syscalls.ts';

// The ring the support check set up and exercised, kept for the first path that needs one of its size.
// Closing it and setting up another would charge RLIMIT_MEMLOCK twice for a moment: the kernel frees a
// closed ring's memory (and uncharges it) later, from a worker, and for some 10 ms a second ring is
// refused with ENOMEM where one would fit (measured on Linux 6.18 as an unprivileged user). Unclaimed, it
// is closed after a second.

const UNCLAIMED_MS = 1000;

let spare: { sys: UringSyscalls; ring: Ring; timer: NodeJS.Timeout } | undefined;

export function keepSpareRing(sys: UringSyscalls, ring: Ring): void {
  closeSpareRing();
  const timer = setTimeout(closeSpareRing, UNCLAIMED_MS).unref();
  spare = { sys, ring, timer };
}

// A ring of `entries` entries for `sys`: the spare where it fits, else a new one (or the errno that
// refused it).
export function takeRing(sys: UringSyscalls, entries: number): Ring | { errno: number } {
  if (spare?.sys === sys && spare.ring.entries === entries) {
    const { ring, timer } = spare;
    clearTimeout(timer);
    spare = undefined;
    return ring;
  }
  return Ring.create(sys, entries);
}

function closeSpareRing(): void {
  if (!spare) return;
  clearTimeout(spare.timer);
  spare.ring.close();
  spare = undefined;
}
