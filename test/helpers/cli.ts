import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;
// The pinned Node 24 first, as `npm test` and `npx` arrange it for users.
export const CLI_ENV = { ...process.env, PATH: `${BIN}:${process.env.PATH}`, NO_COLOR: '1' };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Runs `npx daytime ARGS` as a user would, from the package directory (the bin built by `npm ci`).
export function spawnCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; uid?: number } = {},
): ChildProcess {
  return spawn('npx', ['--no-install', 'daytime', ...args], {
    cwd: ROOT,
    env: { ...CLI_ENV, ...options.env },
    uid: options.uid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; uid?: number } = {}) {
  const child = spawnCli(args, options);
  return collect(child);
}

export async function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

// Starts `daytime serve` and resolves once its JSON log says where it listens.
export async function startCliServer(args: string[]): Promise<{
  child: ChildProcess;
  port: number;
  pid: number;
  logs: Record<string, unknown>[];
}> {
  const child = spawnCli(['serve', '--log-format', 'json', ...args]);
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const record = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        logs.push(record);
        if (typeof record.port === 'number' && record.effectiveBacklog !== undefined) resolve(record.port);
        newline = buffered.indexOf('\n');
      }
    });
    child.once('close', (code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  // npx runs the CLI in a process of its own; pino's `pid` field names the server itself.
  return { child, port, pid: logs[0]?.pid as number, logs };
}
