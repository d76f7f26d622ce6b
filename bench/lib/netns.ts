// Network namespaces for the harnesses: named with our PID (parallel runs), loopback up, and removed
// again on exit, also on failure or Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process';

const created = new Set<string>();

export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (ip netns add)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'needs ip (iproute2)';
  return undefined;
}

export function createNetns(suffix: string): string {
  const name = `dtbench-${process.pid}-${suffix}`;
  execFileSync('ip', ['netns', 'add', name]);
  created.add(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function removeAllNetns(): void {
  for (const name of created) spawnSync('ip', ['netns', 'del', name]);
  created.clear();
}

// The command that runs ARGS inside the namespace (`ip netns exec` execs it, so the PID is the command's).
export const inNetns = (netns: string, command: string, args: string[]): [string, string[]] => [
  'ip',
  ['netns', 'exec', netns, command, ...args],
];
