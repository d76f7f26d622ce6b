import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { CLI_ENV, collect, ROOT } from '../helpers/cli.ts';
import { listenPort } from '../helpers/raw-client.ts';

// `daytime ... | head`: a reader that goes away ends every command quietly with 141 (128 + SIGPIPE,
// what a shell reports for cat or seq cut short), keeping what it wrote before.

const CLI = `${ROOT}dist/cli.js`;
const dir = mkdtempSync(join(tmpdir(), 'daytime-pipe-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A real pipe whose reader is gone before the command starts: a FIFO opened for reading (without
// blocking), then for writing, then its reading end closed. Every write to it fails with EPIPE.
function closedPipe(): number {
  const fifo = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  return writer;
}

// The built bin with its standard output on that closed pipe; its standard error collected.
async function intoClosedPipe(args: string[]) {
  const fd = closedPipe();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', fd, 'pipe'],
    // A command that does not stop (serve logging on, unseen) fails the test instead of hanging it.
    timeout: 60_000,
  });
  closeSync(fd);
  return collect(child);
}

// A real shell pipeline: `daytime ARGS | READER`, with daytime's own exit status (PIPESTATUS).
async function pipeline(args: string[], reader: string) {
  const command = `${[process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ')} | ${reader}; echo "status $\{PIPESTATUS[0]}" >&2`;
  const child = spawn('bash', ['-c', command], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  const result = await collect(child);
  const status = Number(/status (\d+)\n$/.exec(result.stderr)?.[1]);
  return { ...result, status, stderr: result.stderr.replace(/status \d+\n$/, '') };
}

const quiet = (stderr: string) => {
  assert.doesNotMatch(stderr, /EPIPE|Unhandled|\n\s+at /, 'no stack trace, no error');
};

describe('a closed pipe', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  let port = 0;
  before(async () => {
    port = await listenPort(server);
  });
  after(() => server.close());

  const commands: [string, () => string[]][] = [
    ['serve --help', () => ['serve', '--help']],
    ['--version', () => ['--version']],
    ['get', () => ['get', `:${port}`]],
    ['get --json', () => ['get', `127.0.0.1:${port}`, '--json']],
    ['watch --json', () => ['watch', `${port}`, '--json', '--interval', '0.1']],
    ['watch', () => ['watch', `${port}`, '--interval', '0.1']],
    ['bench --json', () => ['bench', `127.0.0.1:${port}`, '--count', '20', '--json']],
    ['completion bash', () => ['completion', 'bash']],
    // Its log lines are its output: JSON through pino's destination, pretty through process.stdout.
    ['serve', () => ['serve', '--host', '127.0.0.1', '--port', '0']],
    [
      'serve --log-format pretty',
      () => ['serve', '--host', '127.0.0.1', '--port', '0', '--log-format', 'pretty'],
    ],
    // Standard output is the client's connection, written to the descriptor itself.
    ['serve --inetd', () => ['serve', '--inetd']],
    ['playground', () => ['playground', '--port', '0']],
  ];
  if (process.platform === 'linux') {
    commands.push(['lab --json', () => ['lab', '--only', 'udp-no-listen', '--json']]);
    commands.push(['lab', () => ['lab', '--only', 'udp-no-listen']]);
  }
  for (const [name, args] of commands) {
    test(`daytime ${name} > a pipe with no reader: exit 141, nothing on stderr about it`, {
      timeout: 90_000,
    }, async () => {
      const result = await intoClosedPipe(args());
      assert.equal(result.code, 141, result.stderr);
      quiet(result.stderr);
    });
  }

  test('daytime watch --json | head -n 2: two whole samples, then exit 141', {
    timeout: 90_000,
  }, async () => {
    const result = await pipeline(['watch', `${port}`, '--json', '--interval', '0.1'], 'head -n 2');
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2, result.stdout);
    for (const line of lines) assert.equal(typeof JSON.parse(line), 'object');
    assert.equal(result.status, 141, result.stderr);
    quiet(result.stderr);
  });

  test('daytime serve --help | head -1: the usage line; quiet, 0 or 141 as the pipe closed before or after', async () => {
    const result = await pipeline(['serve', '--help'], 'head -1');
    assert.equal(result.stdout, 'Usage: daytime serve [options]\n');
    assert.ok([0, 141].includes(result.status), `status ${result.status}: ${result.stderr}`);
    quiet(result.stderr);
  });

  test('daytime get | cat keeps the reply; daytime get | true is quiet', async () => {
    const kept = await pipeline(['get', `:${port}`], 'cat');
    assert.equal(kept.status, 0, kept.stderr);
    assert.match(kept.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
    const gone = await pipeline(['get', `:${port}`], 'true');
    assert.ok([0, 141].includes(gone.status), `status ${gone.status}: ${gone.stderr}`);
    assert.equal(gone.stderr, '');
  });
});
