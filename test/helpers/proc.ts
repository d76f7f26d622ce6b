import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const HAS_PROC = existsSync('/proc/self/fd');

export function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

// What each descriptor of a process is (socket:[inode], anon_inode:[io_uring], a path), for a failure
// message that says which descriptor stayed.
export function descriptorTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return `${fd} (gone)`;
    }
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Polls until check() holds and returns that value; throws once the (generous) deadline passes, with
// `what` was awaited and the last value seen, so a wait that never ends is a failure and not a value
// the caller might forget to check.
export async function waitFor<T>(
  read: () => T,
  check: (value: T) => boolean,
  what = 'the condition',
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = read();
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(value)?.slice(0, 500)}`);
    await sleep(50);
    value = read();
  }
  return value;
}
