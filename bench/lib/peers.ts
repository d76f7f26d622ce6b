// The servers the harness measures side by side, each started on its own port (or, for openbsd-inetd,
// on port 13 inside a network namespace of its own, created here and removed again).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, PERF, waitListening } from './dtload.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}dist/cli.js`;
const NODE = `${ROOT}node_modules/.bin/node`;
// The bin's shebang (`env -S node ...`) finds the pinned Node 24 here.
export const ENV = { ...process.env, PATH: `${ROOT}node_modules/.bin:${process.env.PATH}` };

export interface Peer {
  name: string;
  port: number;
  netns?: string;
  child: ChildProcess;
  // The process whose CPU is the server's (inetd's own PID; it serves daytime without forking).
  pid: number;
}

interface PeerSpec {
  name: string;
  command(port: number): [string, string[]];
}

const serve = (accept: string) => (p: number) =>
  [
    BIN,
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(p),
      '--quiet',
      '--log-format',
      'json',
      '--accept',
      accept,
    ],
  ] as [string, string[]];

export const LOCAL_PEERS: PeerSpec[] = [
  {
    name: 'dtref -w 1',
    command: (p) => [`${PERF}dtref`, ['-a', '127.0.0.1', '-p', String(p), '-b', '511', '-w', '1']],
  },
  // The bin itself, as `daytime serve` runs: its shebang picks the Node flags.
  {
    name: 'dturing',
    command: (p) => [`${PERF}dturing`, ['-a', '127.0.0.1', '-p', String(p), '-b', '511']],
  },
  { name: 'daytime serve (uring)', command: serve('uring') },
  { name: 'daytime serve (libc)', command: serve('libc') },
  { name: 'daytime serve (handle)', command: serve('handle') },
  { name: 'naive net.createServer', command: (p) => [NODE, [`${ROOT}bench/servers/naive.ts`, String(p)]] },
  {
    name: 'classic Python listen(5)',
    command: (p) => ['python3', [`${ROOT}bench/servers/classic.py`, String(p)]],
  },
];

export async function startLocal(spec: PeerSpec): Promise<Peer> {
  const port = await freePort();
  const [cmd, args] = spec.command(port);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: ENV });
  await waitListening(port);
  return { name: spec.name, port, child, pid: child.pid ?? 0 };
}

const INETD = '/usr/sbin/inetd';
const NETNS = `dtbench-${process.pid}`;

// Why openbsd-inetd cannot run here, or undefined when it can.
export function inetdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'needs root (its internal services use port 13, in a namespace of its own)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'needs ip (iproute2)';
  if (spawnSync(INETD, ['-h'], { stdio: 'ignore' }).error)
    return `needs ${INETD} (apt-get install openbsd-inetd)`;
  return undefined;
}

// openbsd-inetd with only its internal daytime, in a private network namespace (port 13 there is
// nobody else's). -R and nowait.N lift its default limit of 256 connections a minute; -q its queue to 511.
export async function startInetd(): Promise<{ peer: Peer; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'dtbench-inetd-'));
  const conf = join(dir, 'inetd.conf');
  writeFileSync(conf, 'daytime stream tcp nowait.100000000 root internal\n');
  execFileSync('ip', ['netns', 'add', NETNS]);
  let child: ChildProcess | undefined;
  const stop = () => {
    child?.kill('SIGTERM');
    spawnSync('ip', ['netns', 'del', NETNS]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    child = spawn('ip', ['netns', 'exec', NETNS, INETD, '-i', '-q', '511', '-R', '100000000', conf], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitListening(13, NETNS);
    // `ip netns exec` execs inetd in place, so the child's PID is inetd's.
    return {
      peer: { name: 'openbsd-inetd (internal)', port: 13, netns: NETNS, child, pid: child.pid ?? 0 },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}
