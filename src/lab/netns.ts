import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeSysctl } from '../kernel/sysctl.ts';
import type { ExperimentResult } from './types.ts';

// Why experiments that need a private network namespace cannot run here; undefined when they can.
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root, to create a private network namespace (unshare --net)';
  for (const tool of [
    ['unshare', '--help'],
    ['ip', '-V'],
  ]) {
    try {
      execFileSync(tool[0] as string, [tool[1] as string], { stdio: 'ignore' });
    } catch {
      return `needs ${tool[0]} (util-linux, iproute2)`;
    }
  }
  return undefined;
}

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

// A script next to the calling module: the .ts source when running from src, the built .js in dist.
export function siblingScript(name: string, moduleUrl: string): URL {
  return new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);
}

// unshare's arguments to run a script with this very Node in a new network namespace of its own. The
// namespace has no name and no mount: it goes away with the last process in it.
export function unshareArgs(script: URL, args: string[]): string[] {
  return ['--net', '--', process.execPath, fileURLToPath(script), ...args];
}

// Inside a fresh namespace: loopback up, then the given sysctls (dotted names), which are the
// namespace's own, so the host's stay as they are.
export function prepareNamespace(sysctls: Record<string, number>): void {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const [name, value] of Object.entries(sysctls)) writeSysctl(name, value);
}
