// The servers the harness measures side by side, each started on its own port, on loopback or (as
// root) inside a network namespace the harness made; openbsd-inetd on port 13 inside one, and in a
// cgroup of its own (both made here and removed again).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeNetns, type Netns } from '../../src/kernel/netns.ts';
import { type CpuCgroup, cpuCgroupUnavailable, makeCpuCgroup } from './cgroup.ts';
import { freePort, PERF, waitListening } from './dtload.ts';
import { type CpuSample, cpuSample, SCHEDSTAT_CLOCK } from './proc.ts';

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
  // The server's process (`ip netns exec` and the bin's `env -S` exec in place, so the child's PID).
  pid: number;
  // Where its CPU is read: a cgroup of its own (every process it forks counted), else its threads.
  cgroup?: CpuCgroup;
}

// The peer's CPU on the scheduler's clock: its cgroup's usage where it has one, else its threads'
// schedstat summed.
export function peerCpu(peer: Peer): CpuSample {
  const threads = cpuSample(peer.pid);
  return peer.cgroup ? { ...threads, cpuUs: peer.cgroup.usageUs(), tids: [] } : threads;
}

export const cpuClockOf = (peer: Peer) =>
  peer.cgroup
    ? `its own cgroup's ${peer.cgroup.kind === 'cpuacct' ? 'cpuacct.usage' : 'cpu.stat usage_usec'}, children included`
    : SCHEDSTAT_CLOCK;

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
  // The kernel serving the whole connection in C: the bound for the uring path's chains (8 slots, as
  // the uring path arms).
  {
    name: 'dtchain',
    command: (p) => [`${PERF}dtchain`, ['-a', '127.0.0.1', '-p', String(p), '-b', '511', '-s', '8']],
  },
  { name: 'daytime serve (uring)', command: serve('uring') },
  { name: 'daytime serve (uring-accept)', command: serve('uring-accept') },
  { name: 'daytime serve (libc)', command: serve('libc') },
  { name: 'daytime serve (handle)', command: serve('handle') },
  { name: 'naive net.createServer', command: (p) => [NODE, [`${ROOT}bench/servers/naive.ts`, String(p)]] },
  {
    name: 'classic Python listen(5)',
    command: (p) => ['python3', [`${ROOT}bench/servers/classic.py`, String(p)]],
  },
];

export async function startLocal(spec: PeerSpec, netns?: Netns): Promise<Peer> {
  const port = await freePort();
  const [cmd, args] = spec.command(port);
  const [file = '', ...argv] = netns ? netns.exec([cmd, ...args]) : [cmd, ...args];
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'inherit'], env: ENV });
  await waitListening(port, netns?.name);
  return { name: spec.name, port, netns: netns?.name, child, pid: child.pid ?? 0 };
}

const INETD = '/usr/sbin/inetd';

// Why openbsd-inetd cannot run here, or undefined when it can.
export function inetdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'needs root (its internal services use port 13, in a namespace of its own)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'needs ip (iproute2)';
  if (spawnSync(INETD, ['-h'], { stdio: 'ignore' }).error)
    return `needs ${INETD} (apt-get install openbsd-inetd)`;
  return undefined;
}

// openbsd-inetd with only its internal daytime, in the namespace given or a private one of its own
// (port 13 there is nobody else's). -R and nowait.N lift its default limit of 256 connections a
// minute; -q its queue to 511. It goes into a cgroup of its own before it can fork, so a service that
// forks per connection would be counted whole (its internal daytime measured the same either way).
export async function startInetd(shared?: Netns): Promise<{ peer: Peer; stop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'dtbench-inetd-'));
  const conf = join(dir, 'inetd.conf');
  writeFileSync(conf, 'daytime stream tcp nowait.100000000 root internal\n');
  let netns: Netns | undefined;
  let child: ChildProcess | undefined;
  let cgroup: CpuCgroup | undefined;
  const stop = () => {
    child?.kill('SIGTERM');
    const left = cgroup?.remove();
    if (left) process.stderr.write(`${left}\n`);
    if (!shared) netns?.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    netns = shared ?? makeNetns('inetd');
    cgroup = cpuCgroupUnavailable() ? undefined : makeCpuCgroup('inetd');
    const [file = '', ...argv] = netns.exec([INETD, '-i', '-q', '511', '-R', '100000000', conf]);
    child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    // Before any connection, so before anything it forks.
    if (cgroup && child.pid) cgroup.add(child.pid);
    await waitListening(13, netns.name);
    const peer = {
      name: 'openbsd-inetd (internal)',
      port: 13,
      netns: netns.name,
      child,
      pid: child.pid ?? 0,
    };
    return { peer: { ...peer, cgroup }, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
