import { readFileSync } from 'node:fs';
import { loadLibc } from '../../src/kernel/libc.ts';

const PR_SET_CHILD_SUBREAPER = 36;

// Makes this test process the subreaper of everything it starts: a process whose parent dies is
// re-parented here instead of to init, and stays a zombie (Node reaps only the children it spawned
// itself), so its exit status can still be read. Linux only; false where it cannot be done.
export async function becomeSubreaper(): Promise<boolean> {
  try {
    const { lib } = await loadLibc();
    const prctl = lib.func(
      'int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)',
    );
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
  } catch {
    return false;
  }
}

// The exit code of a zombie (field 52 of /proc/PID/stat, since Linux 3.5), undefined while it runs or
// once it is gone. The status is wait(2)'s: the code is in the high byte, a signal in the low bits.
export function zombieExit(pid: number): { code: number; signal: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z') return undefined;
    const status = Number(fields.at(-1));
    return { code: status >> 8, signal: status & 0x7f };
  } catch {
    return undefined;
  }
}
