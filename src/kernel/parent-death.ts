import { constants } from 'node:os';
import { loadLibc } from './libc.ts';

const PR_SET_PDEATHSIG = 1;

// Asks the kernel to send `signal` to this process when its parent exits (prctl PR_SET_PDEATHSIG), so
// that a process started through a wrapper (npm's `sh -c`) does not outlive it. False where that
// cannot be done (not Linux, no libc through koffi). A parent that is already gone is signalled here.
export async function signalWhenParentExits(signal: NodeJS.Signals, parent: number): Promise<boolean> {
  try {
    const { lib } = await loadLibc();
    const prctl = lib.func(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
    );
    if (prctl(PR_SET_PDEATHSIG, constants.signals[signal], 0, 0, 0) !== 0) return false;
  } catch {
    return false;
  }
  if (process.ppid !== parent) process.kill(process.pid, signal);
  return true;
}
