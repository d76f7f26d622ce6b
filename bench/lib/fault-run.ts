// One run of the fault matrix: `serve --workers 2 --metrics` in a network namespace of its own, steady
// load from `daytime bench`, two scrapers, and helpers for the faults to act on the workers.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../src/kernel/netns.ts';
import type { Scrape } from './scraper.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = `${ROOT}node_modules/.bin/node`;
export const PORT = 9999;
export const METRICS = 9464;

export type Log = Record<string, unknown>;

export interface Served {
  child: ChildProcess;
  logs: Log[];
  primary: number;
  exited: Promise<unknown>;
}

// `daytime serve` from the package in `dir` (the repository, or a copy whose dist/ a fault moves away).
export async function startServe(
  ns: Netns,
  dir: string,
  accept = 'auto',
  extra: string[] = [],
): Promise<Served> {
  const [file = '', ...args] = ns.exec([
    NODE,
    `${dir}dist/cli.js`,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(PORT),
    '--workers',
    '2',
    '--metrics',
    `127.0.0.1:${METRICS}`,
    '--accept',
    accept,
    '--quiet',
    '--log-format',
    'json',
    ...extra,
  ]);
  // Process groups of their own: a Ctrl-C reaches the matrix only, which ends the run in order. Its
  // stderr is kept, not shown: a worker that cannot start on purpose prints Node's stack there.
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stderr?.resume();
  const logs: Log[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line));
  });
  const exited = once(child, 'exit');
  for (let i = 0; i < 300 && !logs.some((l) => l.ready); i++) await sleep(50);
  const ready = logs.find((l) => l.ready);
  if (!ready) throw new Error('serve did not become ready');
  return { child, logs, primary: Number(ready.pid), exited };
}

// The current pid of worker `id`, from the primary's "worker N ready" lines.
export function workerPid(served: Served, id: number): number {
  const ready = served.logs.filter((l) => l.worker === id && /ready/.test(String(l.msg)));
  return Number(ready.at(-1)?.workerPid);
}

export async function readyAgain(
  served: Served,
  id: number,
  after: number,
  timeoutMs = 30_000,
): Promise<void> {
  const count = () => served.logs.filter((l) => l.worker === id && /ready/.test(String(l.msg))).length;
  const deadline = Date.now() + timeoutMs;
  while (count() <= after && Date.now() < deadline) await sleep(20);
}

export const readyCount = (served: Served, id: number) =>
  served.logs.filter((l) => l.worker === id && /ready/.test(String(l.msg))).length;

// A command in the namespace whose stdout is one JSON document.
export async function jsonFrom<T>(ns: Netns, command: string[]): Promise<T> {
  const [file = '', ...args] = ns.exec(command);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  await once(child, 'close');
  return JSON.parse(out) as T;
}

export interface BenchOut {
  ok: number;
  completed: number;
  errors: Record<string, number>;
}

export const load = (ns: Netns, args: string[]) =>
  jsonFrom<BenchOut>(ns, [NODE, `${ROOT}dist/cli.js`, 'bench', `127.0.0.1:${PORT}`, '--json', ...args]);

export const scrapes = (ns: Netns, seconds: number, intervalMs = 100) =>
  jsonFrom<Scrape[]>(ns, [
    NODE,
    `${ROOT}bench/lib/scraper.ts`,
    String(METRICS),
    String(intervalMs),
    String(seconds),
  ]);
