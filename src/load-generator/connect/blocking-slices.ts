import { setImmediate as yieldToLoop } from 'node:timers/promises';

// How the connect loops that block their worker thread in the kernel (libc: epoll_wait, uring:
// io_uring_enter) run: `wait` blocks up to WAIT_MS and handles what came; `scan` (timeouts, idle slots)
// runs every `scanEvery` ms; every SLICE_MS the thread's own event loop gets a turn (the stop message,
// the progress timer, an AbortSignal), short enough to feel immediate. Until `busy` is false.
export const WAIT_MS = 10;
const SLICE_MS = 50;

export async function runBlockingSlices(
  busy: () => boolean,
  wait: () => void,
  scan: (now: number) => void,
  scanEvery: number,
): Promise<void> {
  let nextScan = performance.now() + scanEvery;
  while (busy()) {
    const sliceEnd = performance.now() + SLICE_MS;
    while (busy()) {
      wait();
      const now = performance.now();
      if (now >= nextScan) {
        scan(now);
        nextScan = now + scanEvery;
      }
      if (now >= sliceEnd) break;
    }
    await yieldToLoop();
  }
}
