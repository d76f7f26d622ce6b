// The C load generator (../shared/perf/dtload), built on first use, optionally inside a network namespace.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const PERF = fileURLToPath(new URL('../../../shared/perf/', import.meta.url));

export function buildPerf(): void {
  execFileSync('make', ['-s', '-C', PERF], { stdio: 'inherit' });
}

export type DtloadResult = Record<string, number>;

// One dtload run against HOST:PORT (127.0.0.1 unless given); ARGS such as ['-c', '64', '-d', '5', '-t', '2'].
export function dtload(port: number, args: string[], options: { netns?: string; host?: string } = {}) {
  const command = [`${PERF}dtload`, '-h', options.host ?? '127.0.0.1', '-p', String(port), '-q', ...args];
  const [file = '', ...rest] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...command] : command;
  const out = execFileSync(file, rest, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return Object.fromEntries(
    out
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as DtloadResult;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
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
