import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acceptQueued } from './ports.ts';
import { waitFor } from './proc.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}node_modules/.bin`;
// Without the variables `npm test` sets, the bin started directly runs as from a shell (under npm the
// server also follows its parent shell out, src/cli/serve.ts) however the suite was started; npm and
// npx set their own for what they start.
const { npm_lifecycle_event: _event, npm_lifecycle_script: _script, ...shellEnv } = process.env;
// The pinned Node 24 first, as `npm test` and `npx` arrange it for users.
export const CLI_ENV = {
  ...shellEnv,
  PATH: `${BIN}:${process.env.PATH}`,
  NO_COLOR: '1',
  // npm's own warnings (machine-wide npmrc settings) are not the CLI's output.
  npm_config_loglevel: 'error',
};

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The built bin under the pinned Node, from the package directory, as `npx daytime ARGS` runs it but
// without npm's second or so of start-up: for every test where npm's own behaviour is not the subject.
// `foreground`: in a process group of its own, as a shell runs a foreground job, so that pressCtrlC
// can signal the whole group the way a terminal does.
export function spawnCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; foreground?: boolean } = {},
): ChildProcess {
  return spawn(`${BIN}/node`, [`${ROOT}dist/cli.js`, ...args], {
    cwd: ROOT,
    env: { ...CLI_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.foreground,
  });
}

// `npx daytime ARGS` as a user runs it (the bin built by `npm ci`), for the tests of what npm and npx
// themselves do: the engine check, a signal npm passes on or not, the sockets npm does not pass down.
export function spawnNpx(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; foreground?: boolean } = {},
): ChildProcess {
  return spawn('npx', ['--no-install', 'daytime', ...args], {
    cwd: ROOT,
    env: { ...CLI_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.foreground,
  });
}

// The built bin in a process group of its own (spawnCli in the foreground): its own exit status, which
// npx hides after a Ctrl-C (npm then ends itself with the signal).
export function spawnBin(args: string[]): ChildProcess {
  return spawnCli(args, { foreground: true });
}

// What a terminal does on Ctrl-C: SIGINT to every process of the foreground job (npm, the shell it
// started, daytime and daytime's own children), not to one of them.
export function pressCtrlC(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
}

// Resolves once `pattern` appears in what the child writes to stderr (or stdout: stdoutShows), the
// whole text so far.
export const stderrShows = (child: ChildProcess, pattern: RegExp) => shows(child, 'stderr', pattern);
export const stdoutShows = (child: ChildProcess, pattern: RegExp) => shows(child, 'stdout', pattern);

function shows(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]?.on('data', (chunk) => {
      text += chunk;
      if (pattern.test(text)) resolve(text);
    });
    child.once('close', () => reject(new Error(`exited before ${pattern}: ${text}`)));
  });
}

export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
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

export interface CliServer {
  child: ChildProcess;
  port: number;
  // The server's own PID (pino's `pid` field: the server, or the primary with --workers), which is not
  // the child's where a command runs it (ip netns exec, prlimit).
  pid: number;
  // Every JSON log record so far; it keeps growing while the server runs.
  logs: Record<string, unknown>[];
  // Sends the signal to the server and resolves with its exit status once the child has exited.
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; stderr: string }>;
}

type LogRecord = Record<string, unknown>;

// Servers still running when a test file ends (a failed assertion skipped its stop()) are killed, so a
// failure cannot leave the file hanging on their open pipes.
const live = new Set<CliServer>();
after(async () => {
  await Promise.all([...live].map((server) => server.stop('SIGKILL')));
});
// Every listener bound (TCP and UDP): the server's "ready" line.
const listening = (record: LogRecord) => record.ready === true && typeof record.port === 'number';

// `daytime serve` on 127.0.0.1, a free port, no line per connection, plus ARGS.
export function startQuietServer(args: string[] = [], env?: NodeJS.ProcessEnv): Promise<CliServer> {
  return startCliServer(
    ['--host', '127.0.0.1', '--port', '0', '--quiet', ...args],
    undefined,
    undefined,
    env,
  );
}

// Starts `daytime serve` and resolves once its JSON log says it is ready: by default, its "ready"
// line; the server's PID is the PID of the process that logged the ready line.
// `command` runs another program instead of the bin (e.g. [node, some/dist/cli.js]); `env` is
// added to the environment.
export async function startCliServer(
  args: string[],
  ready: (record: LogRecord) => boolean = listening,
  command?: string[],
  env?: NodeJS.ProcessEnv,
): Promise<CliServer> {
  const serveArgs = ['serve', '--log-format', 'json', ...args];
  const [file, ...prefix] = command ?? [];
  const child = file
    ? spawn(file, [...prefix, ...serveArgs], {
        cwd: ROOT,
        env: { ...CLI_ENV, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawnCli(serveArgs, { env });
  const logs: Record<string, unknown>[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const closed = once(child, 'close') as Promise<[number | null]>;
  let pid = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const record = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        logs.push(record);
        if (pid === 0 && ready(record)) {
          pid = record.pid;
          resolve(record.port);
        }
        newline = buffered.indexOf('\n');
      }
    });
    closed.then(([code]) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  const server: CliServer = {
    child,
    port,
    pid,
    logs,
    async stop(signal = 'SIGTERM') {
      live.delete(server);
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
      const [code] = await closed;
      return { code, stderr };
    },
  };
  live.add(server);
  return server;
}

// Runs the built bin directly with the pinned Node (from /, so no npm project is found), optionally
// behind a command that changes how it runs (`prefix`, e.g. setpriv dropping a capability).
export function runBin(args: string[], options: { env?: NodeJS.ProcessEnv; prefix?: string[] } = {}) {
  const [command = `${BIN}/node`, ...rest] = [...(options.prefix ?? []), `${BIN}/node`];
  const child = spawn(command, [...rest, `${ROOT}dist/cli.js`, ...args], {
    cwd: '/',
    env: { ...CLI_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A command that should have failed at once but runs must not hang the suite.
    timeout: 30_000,
  });
  return collect(child);
}

// `daytime serve` on 127.0.0.1 (a free port, JSON logs, no line per connection) under
// `prlimit --nofile=N:N`, which is `ulimit -n N` for that one process.
export function spawnWithFileLimit(limit: number, args: string[]) {
  const serve = ['serve', '--host', '127.0.0.1', '--port', '0', '--quiet', '--log-format', 'json'];
  return spawnUntilReady('prlimit', [
    `--nofile=${limit}:${limit}`,
    '--',
    `${ROOT}dist/cli.js`,
    ...serve,
    ...args,
  ]);
}

// Runs a command that starts the server some other way (npm start, under prlimit) and resolves with
// the server's "ready" log record once it has one.
export async function spawnUntilReady(command: string, args: string[]) {
  const child = spawn(command, args, { cwd: ROOT, env: CLI_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const exited = once(child, 'close') as Promise<[number | null]>;
  const ready = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('"ready":true'));
      if (line) resolve(JSON.parse(line));
    });
    exited.then(([code]) => reject(new Error(`${command} exited with ${code} before it was ready`)));
  });
  return { child, exited, ...ready };
}

// `script` (util-linux) where present: it runs a command on a pseudo-terminal, as a user's shell would.
export const scriptPath = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));

// Runs the bin on a pseudo-terminal (stdout and stderr both the terminal), so the CLI draws as it does
// for a user; the output is what the terminal received.
export function runCliOnTty(args: string[]): Promise<CliResult> {
  if (!scriptPath) throw new Error('script(1) is not installed');
  const command = [`${BIN}/node`, `${ROOT}dist/cli.js`, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn(scriptPath, ['-qec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...CLI_ENV, TERM: 'xterm' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return collect(child);
}

// Stops the server process (SIGSTOP: it accepts nothing) and connects `count` clients to it, which
// land in its accept queue until it is full; resolves once the kernel holds `queued` of them there
// (backlog + 1 at most: the others wait in SYN retransmissions). The caller sends SIGCONT and destroys
// the clients.
export async function stopWithQueuedClients(
  server: CliServer,
  count: number,
  queued = count,
): Promise<net.Socket[]> {
  process.kill(server.pid, 'SIGSTOP');
  const clients = Array.from({ length: count }, () =>
    net.connect(server.port, '127.0.0.1').on('error', () => {}),
  );
  await waitFor(
    () => acceptQueued(server.port),
    (n) => n >= queued,
    `${queued} connections in the accept queue`,
  );
  return clients;
}
