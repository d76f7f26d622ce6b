import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExperimentResult } from './types.ts';

const run = promisify(execFile);

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

// Runs one experiment in a fresh network namespace with these sysctls set there; the host's own
// sysctls and counters are not touched.
export async function runInNetns(
  id: string,
  sysctls: Record<string, number>,
): Promise<Pick<ExperimentResult, 'parameters' | 'measurements' | 'status' | 'verdict'>> {
  const runner = new URL(
    import.meta.url.endsWith('.ts') ? './netns-runner.ts' : './netns-runner.js',
    import.meta.url,
  );
  const { stdout } = await run(
    'unshare',
    ['--net', '--', process.execPath, fileURLToPath(runner), id, JSON.stringify(sysctls)],
    {
      timeout: 60_000,
      maxBuffer: 16 << 20,
    },
  );
  return JSON.parse(stdout);
}
