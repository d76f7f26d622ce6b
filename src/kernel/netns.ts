import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeSysctl } from './sysctl.ts';

// Network namespaces of our own, where the lab, the playground, the fleet, the harness and the tests
// put traffic, sysctls and kernel counters that must not touch the host's. Made one of two ways:
// `unshare --net` runs one process (and its children) in a namespace with no name, gone with its last
// process (the lab's experiments, the playground's engine); `ip netns add` makes a named one that
// several processes join and that must be removed (the harness, the tests, the fleet).
export type NetnsTool = 'unshare' | 'ip netns';

// Why a namespace cannot be made here with `tool`; undefined when it can.
export function netnsUnavailable(tool: NetnsTool): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0)
    return `needs root, to create a private network namespace (${tool === 'unshare' ? 'unshare --net' : 'ip netns add'})`;
  if (tool === 'ip netns')
    return spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0
      ? undefined
      : 'needs ip netns (iproute2)';
  for (const [command, version] of [
    ['unshare', '--help'],
    ['ip', '-V'],
  ] as const) {
    try {
      execFileSync(command, [version], { stdio: 'ignore' });
    } catch {
      return `needs ${command} (util-linux, iproute2)`;
    }
  }
  return undefined;
}

// unshare's arguments to run a script with this very Node in a new network namespace of its own. The
// namespace has no name and no mount: it goes away with the last process in it.
export function unshareArgs(script: URL, args: string[]): string[] {
  return ['--net', '--', process.execPath, fileURLToPath(script), ...args];
}

// A script next to the calling module: the .ts source when running from src, the built .js in dist.
export function siblingScript(name: string, moduleUrl: string): URL {
  return new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl);
}

// Inside a fresh namespace (the script unshare started): loopback up, then the given sysctls (dotted
// names), which are the namespace's own, so the host's stay as they are.
export function prepareNamespace(sysctls: Record<string, number>): void {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const [name, value] of Object.entries(sysctls)) writeSysctl(name, value);
}

export interface Netns {
  name: string;
  // The command line that runs `command` inside the namespace.
  exec(command: string[]): string[];
  remove(): void;
}

// The name makeNetns gives: the maker's PID last, after a dash, so that a namespace whose maker is
// gone can be told.
const OURS = /^dt[\w-]*-(\d+)$/;

// Namespaces makeNetns named for a process that no longer runs and in which nothing runs: their maker
// was killed before its remove() (SIGKILL, a timeout's kill), which no handler can catch. Removed
// before a new one is made; a PID in use again, or a process inside, keeps the namespace.
export function removeStaleNetns(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const removed: string[] = [];
  for (const name of listed.split('\n').map((line) => line.split(' ')[0] ?? '')) {
    const pid = Number(OURS.exec(name)?.[1] ?? 0);
    if (pid === 0 || alive(pid)) continue;
    const inside = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout?.trim();
    if (inside) continue;
    if (spawnSync('ip', ['netns', 'del', name]).status === 0) removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

// A named namespace with loopback up and the given sysctls (per namespace: somaxconn, tcp_*), named
// for this process so that parallel runs never meet; remove() deletes it and every socket in it.
export function makeNetns(tag: string, sysctls: Record<string, string | number> = {}): Netns {
  removeStaleNetns();
  const name = `dt${tag}-${process.pid}`;
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
