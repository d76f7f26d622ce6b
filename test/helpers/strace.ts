import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './proc.ts';

export const HAS_STRACE = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;

// strace attached to a running process (all its threads), recording the given system calls; stop()
// detaches and returns the calls of the process's main thread (the event loop), in order: each call's
// name and strace's whole line.
export async function straceCalls(pid: number, calls: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'daytime-strace-'));
  const out = join(dir, 'trace');
  const child = spawn(
    'strace',
    ['-f', '-qq', '-e', `trace=${calls.join(',')}`, '-o', out, '-p', String(pid)],
    {
      stdio: 'ignore',
    },
  );
  // Attaching takes a moment, and a call made before it is not seen: until every thread of the process
  // names strace as its tracer (/proc/PID/task/*/status).
  const tracer = (tid: string) => {
    try {
      return /^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1];
    } catch {
      return String(child.pid); // a thread that ended meanwhile
    }
  };
  await waitFor(
    () => readdirSync(`/proc/${pid}/task`).map(tracer),
    (tracers) => tracers.every((t) => t === String(child.pid)),
    `strace attached to ${pid}`,
  );
  return {
    async stop(): Promise<{ name: string; line: string }[]> {
      // strace ends by itself when the process it traces exits.
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
      const lines = readFileSync(out, 'utf8').split('\n');
      rmSync(dir, { recursive: true, force: true });
      const seen: { name: string; line: string }[] = [];
      for (const line of lines) {
        // "PID name(args) = result": the main thread's PID is the process's.
        const match = /^(\d+)\s+(\w+)\(/.exec(line);
        if (match && Number(match[1]) === pid && match[2]) seen.push({ name: match[2], line });
      }
      return seen;
    },
  };
}
