// The pieces of the UDP flood harness (bench/udp-flood.ts): dtflood, servers and the reply counter in
// a network namespace, the namespace's UDP counters, and the CPU the figures were taken on.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../src/kernel/netns.ts';
import { parseNetstat } from '../../src/kernel/netstat.ts';
import { PERF, waitListening } from './dtload.ts';
import { ENV } from './peers.ts';

const BIN = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
const COUNTER = fileURLToPath(new URL('./reply-counter.ts', import.meta.url));

const output = async (child: ChildProcess) => {
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`${child.spawnargs.join(' ')} exited with ${code}`);
  return text;
};

// dtflood at full speed (or -r) inside the namespace; resolves with what it sent.
export async function dtflood(netns: Netns, port: number, seconds: number, extra: string[] = []) {
  const flood = [`${PERF}dtflood`, '-p', String(port), '-d', String(seconds), ...extra];
  const [command = '', ...args] = netns.exec(flood);
  const text = await output(spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const field = (name: string) => Number(new RegExp(`${name}=([\\d.]+)`).exec(text)?.[1] ?? 0);
  return { sent: field('sent'), rate: field('rate') };
}

export interface NetnsServer {
  pid: number;
  child: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

// `daytime serve --host 127.0.0.1 --port PORT --quiet` plus ARGS inside the namespace, once it answers.
export async function startServer(netns: Netns, port: number, args: string[]): Promise<NetnsServer> {
  const serve = ['serve', '--host', '127.0.0.1', '--port', String(port), '--quiet', '--log-format', 'json'];
  const [command = '', ...argv] = netns.exec([BIN, ...serve, ...args]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const logs: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => logs.push(...String(chunk).split('\n').filter(Boolean)));
  await waitListening(port, netns.name);
  const closed = once(child, 'close');
  return {
    pid: child.pid ?? 0,
    child,
    logs,
    async stop() {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

// Replies from PORT counted by destination while `during` runs (bench/lib/reply-counter.ts).
export async function countReplies(netns: Netns, port: number, during: () => Promise<void>) {
  const [command = '', ...args] = netns.exec([NODE, COUNTER, String(port)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: ENV });
  const text = output(child);
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  try {
    await during();
  } finally {
    child.kill('SIGTERM');
  }
  const lines = (await text).trim().split('\n');
  return JSON.parse(lines.at(-1) ?? '{}') as Record<string, number>;
}

// The namespace's UDP counters, read through a process in it (/proc/PID/net is that process's namespace).
export function udpCounters(pid: number) {
  const counters = parseNetstat(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
  return {
    inDatagrams: counters.UdpInDatagrams ?? 0,
    rcvbufErrors: counters.UdpRcvbufErrors ?? 0,
  };
}

// What every figure is recorded with: the CPU's family and model and the kernel's mitigations.
export function cpuDetails() {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1]?.trim();
  const dir = '/sys/devices/system/cpu/vulnerabilities';
  const mitigations: Record<string, string> = {};
  try {
    for (const name of readdirSync(dir)) mitigations[name] = readFileSync(`${dir}/${name}`, 'utf8').trim();
  } catch {
    // not Linux, or no sysfs
  }
  return {
    model: field('model name'),
    family: Number(field('cpu family')),
    modelNumber: Number(field('model')),
    cpus: (info.match(/^processor\s*:/gm) ?? []).length,
    mitigations,
  };
}
