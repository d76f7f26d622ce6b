// `daytime serve` as the tests run it: started, ready, its JSON log kept, stopped by signal.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import { CLI_ENV, ROOT, spawnCli } from './cli.ts';
import { acceptQueued } from './ports.ts';
import { waitFor } from './proc.ts';

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
