import { execFileSync, spawnSync } from 'node:child_process';

// Why a network namespace of our own cannot be made here; undefined when it can.
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root, to create a network namespace';
  if (spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status !== 0)
    return 'needs ip netns (iproute2)';
  return undefined;
}

export interface Netns {
  name: string;
  // The command line that runs `command` inside the namespace.
  exec(command: string[]): string[];
  remove(): void;
}

// A network namespace with loopback up and the given sysctls (per namespace: somaxconn, tcp_*), named
// for this process so that parallel runs never meet; remove() deletes it and every socket in it.
export function makeNetns(tag: string, sysctls: Record<string, string | number> = {}): Netns {
  const name = `dt${tag}${process.pid}`;
  execFileSync('ip', ['netns', 'add', name]);
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    for (const [key, value] of Object.entries(sysctls))
      execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-qw', `${key}=${value}`]);
  } catch (error) {
    spawnSync('ip', ['netns', 'del', name]);
    throw error;
  }
  return {
    name,
    exec: (command) => ['ip', 'netns', 'exec', name, ...command],
    remove: () => void spawnSync('ip', ['netns', 'del', name]),
  };
}
