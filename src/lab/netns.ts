import { type ChildProcess, execFile } from 'node:child_process';
import { siblingScript, unshareArgs } from '../kernel/netns.ts';
import { readLabSysctls } from './environment.ts';
import type { ExperimentResult, ExperimentStep } from './types.ts';

export type NetnsOutcome = Pick<ExperimentResult, 'parameters' | 'measurements' | 'status' | 'verdict'>;

// What netns-runner.ts writes, one JSON object a line: the experiment's steps as it takes them, then
// its result.
export type RunnerLine = { step: ExperimentStep } | { result: NetnsOutcome };

// A namespace lives as long as the process in it: ending these ends what the lab made, also when the
// lab itself exits at once (a second Ctrl-C) without waiting for them.
const running = new Set<ChildProcess>();
const endAll = () => {
  for (const child of running) child.kill('SIGKILL');
};

// This namespace's lab sysctls that exist here: a fresh namespace starts from the kernel's defaults,
// and an experiment in one should meet this machine's settings.
const hostSysctls = () =>
  Object.fromEntries(
    Object.entries(readLabSysctls()).filter((entry): entry is [string, number] => entry[1] !== null),
  );

// Runs one experiment in a fresh network namespace, with this machine's lab sysctls and then `sysctls`
// set there; the host's own sysctls and counters are not touched. Its steps come to `onProgress` as it
// takes them. The signal ends the run (and its namespace) at once.
export function runInNetns(
  id: string,
  sysctls: Record<string, number>,
  signal?: AbortSignal,
  onProgress?: (step: ExperimentStep) => void,
): Promise<NetnsOutcome> {
  const settings = { ...hostSysctls(), ...sysctls };
  return new Promise((resolve, reject) => {
    let result: NetnsOutcome | undefined;
    let buffered = '';
    const child = execFile(
      'unshare',
      unshareArgs(siblingScript('netns-runner', import.meta.url), [id, JSON.stringify(settings)]),
      { timeout: 60_000, maxBuffer: 16 << 20, signal, killSignal: 'SIGKILL' },
      (error) => {
        running.delete(child);
        if (running.size === 0) process.off('exit', endAll);
        if (error) reject(error);
        else if (result) resolve(result);
        else reject(new Error(`the ${id} experiment in its namespace gave no result`));
      },
    );
    child.stdout?.on('data', (chunk) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, end)) as RunnerLine;
        buffered = buffered.slice(end + 1);
        if ('step' in line) onProgress?.(line.step);
        else result = line.result;
      }
    });
    if (running.size === 0) process.on('exit', endAll);
    running.add(child);
  });
}
