import { type ChildProcess, execFile } from 'node:child_process';
import { siblingScript, unshareArgs } from '../kernel/netns.ts';
import type { ExperimentResult } from './types.ts';

// A namespace lives as long as the process in it: ending these ends what the lab made, also when the
// lab itself exits at once (a second Ctrl-C) without waiting for them.
const running = new Set<ChildProcess>();
const endAll = () => {
  for (const child of running) child.kill('SIGKILL');
};

// Runs one experiment in a fresh network namespace with these sysctls set there; the host's own
// sysctls and counters are not touched. The signal ends the run (and its namespace) at once.
export function runInNetns(
  id: string,
  sysctls: Record<string, number>,
  signal?: AbortSignal,
): Promise<Pick<ExperimentResult, 'parameters' | 'measurements' | 'status' | 'verdict'>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'unshare',
      unshareArgs(siblingScript('netns-runner', import.meta.url), [id, JSON.stringify(sysctls)]),
      { timeout: 60_000, maxBuffer: 16 << 20, signal, killSignal: 'SIGKILL' },
      (error, stdout) => {
        running.delete(child);
        if (running.size === 0) process.off('exit', endAll);
        if (error) reject(error);
        else resolve(JSON.parse(stdout));
      },
    );
    if (running.size === 0) process.on('exit', endAll);
    running.add(child);
  });
}
