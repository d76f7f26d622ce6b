// The C load generator (../shared/perf/dtload), built on first use, optionally inside a network namespace.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readProcNet } from '../../src/kernel/proc-net.ts';

// ../shared/perf beside the checkout (or beside the folder of worktrees holding it), or DAYTIME_PERF_DIR.
export const PERF =
  process.env.DAYTIME_PERF_DIR ??
  [new URL('../../../shared/perf/', import.meta.url), new URL('../../../../shared/perf/', import.meta.url)]
    .map((url) => fileURLToPath(url))
    .find((dir) => existsSync(`${dir}Makefile`)) ??
  fileURLToPath(new URL('../../../shared/perf/', import.meta.url));

export function buildPerf(): void {
  execFileSync('make', ['-s', '-C', PERF], { stdio: 'inherit' });
}

// The io_uring reference server, built where liburing-dev is installed; otherwise why not.
export function buildDturing(): string | undefined {
  const make = spawnSync('make', ['-s', '-C', PERF, 'dturing', 'dtchain'], { encoding: 'utf8' });
  if (make.status === 0) return undefined;
  const detail = (make.stderr || make.stdout || String(make.error ?? '')).trim().split('\n')[0];
  return `make dturing dtchain failed (they need liburing-dev): ${detail}`;
}

export type DtloadResult = Record<string, number>;
// cpu: pinned to that CPU (taskset), so the load generator does not take the server's. signal: killed
// (SIGTERM) when it aborts, for a harness that stops on SIGINT or a deadline.
type DtloadOptions = { netns?: string; host?: string; cpu?: number; signal?: AbortSignal };

const dtloadCommand = (port: number, args: string[], options: DtloadOptions) => {
  const dtload = [`${PERF}dtload`, '-h', options.host ?? '127.0.0.1', '-p', String(port), '-q', ...args];
  const command = options.cpu === undefined ? dtload : ['taskset', '-c', String(options.cpu), ...dtload];
  return options.netns ? ['ip', 'netns', 'exec', options.netns, ...command] : command;
};
const parseDtload = (out: string) =>
  Object.fromEntries(
    out
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as DtloadResult;

// One dtload run against HOST:PORT (127.0.0.1 unless given); ARGS such as ['-c', '64', '-d', '5', '-t', '2'].
export function dtload(port: number, args: string[], options: DtloadOptions = {}) {
  const [file = '', ...rest] = dtloadCommand(port, args, options);
  return parseDtload(execFileSync(file, rest, { encoding: 'utf8', maxBuffer: 1 << 20 }));
}

// The same without blocking this process (it has other work meanwhile).
export async function dtloadAsync(port: number, args: string[], options: DtloadOptions = {}) {
  const [file = '', ...rest] = dtloadCommand(port, args, options);
  const { stdout } = await promisify(execFile)(file, rest, {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    signal: options.signal,
  });
  return parseDtload(stdout);
}

export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

// Until at least `count` connections wait in the accept queue of the TCP listener on `port` (127.0.0.1),
// as /proc/net/tcp has it: a stopped server's queue filling up. False when `ms` pass first.
export async function waitQueued(port: number, count: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const queued = readProcNet('tcp')?.find((row) => row.port === port && row.state === '0A')?.rxQueue ?? 0;
    if (queued >= count) return true;
    await sleep(20);
  }
  return false;
}

// Until a connection to the port succeeds (a dtload of one connection, so it works inside a namespace).
// `header`: dtload's PROXY option (['-x', 'v2']) for a server that requires one.
export async function waitListening(port: number, netns?: string, header: string[] = []): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (dtload(port, ['-c', '1', '-n', '1', '-t', '1', '-T', '500', ...header], { netns }).ok === 1) return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`nothing answers on port ${port}${netns ? ` in ${netns}` : ''}`);
}
