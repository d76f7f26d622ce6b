import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

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
  return unlessEnded(
    spawn(`${BIN}/node`, [`${ROOT}dist/cli.js`, ...args], {
      cwd: ROOT,
      env: { ...CLI_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.foreground,
    }),
    options.foreground,
  );
}

// `npx daytime ARGS` as a user runs it (the bin built by `npm ci`), for the tests of what npm and npx
// themselves do: the engine check, a signal npm passes on or not, the sockets npm does not pass down.
export function spawnNpx(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; foreground?: boolean } = {},
): ChildProcess {
  return unlessEnded(
    spawn('npx', ['--no-install', 'daytime', ...args], {
      cwd: ROOT,
      env: { ...CLI_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.foreground,
    }),
    options.foreground,
  );
}

// What a test started and did not see end (a failed or timed-out test never waited for it) is killed
// once the file's tests are done, its process group with it where it has one: a bench meant to run ten
// minutes must not keep the file, and the suite, waiting on its pipes.
const running = new Map<ChildProcess, boolean>();
function unlessEnded(child: ChildProcess, group = false): ChildProcess {
  running.set(child, group);
  child.once('close', () => running.delete(child));
  return child;
}
after(() => {
  for (const [child, group] of running) {
    try {
      if (child.pid !== undefined) process.kill(group ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
});

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
