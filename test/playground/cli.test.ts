import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { CLI_ENV, ROOT, runCli } from '../helpers/cli.ts';
import { waitFor } from '../helpers/proc.ts';
import { alive, api, hasSs, request, ssListener, waitForState } from './support.ts';

const linux = process.platform === 'linux';

// The built bin with the pinned Node, in a process group of its own as a shell runs it (Ctrl-C is
// SIGINT to the group). Not through npx: npm's own process dies of the signal without waiting.
async function startPlayground(args: string[] = [], env: NodeJS.ProcessEnv = CLI_ENV) {
  const child = spawn(`${ROOT}node_modules/.bin/node`, [`${ROOT}dist/cli.js`, 'playground', ...args], {
    cwd: '/',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    closed.then(() => {
      throw new Error(`playground exited before printing its address: ${stderr}`);
    }),
  ])) as [string];
  return { child, first, closed, stderr: () => stderr };
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`daytime playground: its address with a token on the first line; ${signal} stops the run, removes what it made, exit 0`, {
    skip: !linux && 'Linux only',
  }, async () => {
    const { child, first, closed, stderr } = await startPlayground();
    try {
      const match = /^playground: http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]{20,})$/.exec(first);
      assert.ok(match, first);
      const port = Number(match[1]);
      const token = match[2] as string;
      assert.equal((await request(port, {})).status, 401, 'the token is needed');
      assert.equal((await api(port, token, 'GET', '/api/state')).status, 200);
      const page = await request(port, { path: `/?token=${token}` });
      assert.match(page.body, /<title>The backlog playground/);
      assert.equal(
        (await api(port, token, 'POST', '/api/run', { backlog: 1, clients: 4, clientTimeoutS: 60 })).status,
        202,
      );
      const running = await waitForState(port, token, (s) => s.listener?.queued === 2, 'a full queue');
      if (hasSs && !running.namespace) assert.ok(ssListener(running), 'the listener is there while it runs');
      process.kill(-(child.pid as number), signal);
      const [code] = await closed;
      assert.equal(code, 0, stderr());
      assert.match(stderr(), /playground: run 1 stopped/);
      if (running.namespace) assert.equal(alive(running.namespace.pid), false, 'the run’s namespace is gone');
      else if (hasSs) assert.equal(ssListener(running), undefined, 'the listener is gone');
      await assert.rejects(request(port, {}), 'the page is gone');
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
    }
  });
}

test('daytime playground --open where no browser opens: it says so, with the address to open by hand', {
  skip: !linux && 'Linux only',
}, async () => {
  // No desktop, and a $BROWSER that fails: xdg-open finds no browser (exit 4). Where xdg-open is not
  // installed, starting it fails instead; either way no browser opens.
  const env: NodeJS.ProcessEnv = { ...CLI_ENV, BROWSER: 'false' };
  for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION'])
    delete env[name];
  const { child, first, closed, stderr } = await startPlayground(['--open', '--port', '0'], env);
  try {
    const url = first.replace(/^playground: /, '');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    const said = await waitFor(stderr, (text) => text.includes('could not open a browser'));
    const line = said.split('\n').find((l) => l.includes('could not open a browser'));
    assert.match(
      line ?? said,
      /^playground: could not open a browser \((no xdg-open here|xdg-open exited with status \d+)\); /,
    );
    assert.ok(line?.endsWith(`; open ${url} by hand`), line);
    process.kill(-(child.pid as number), 'SIGTERM');
    const [code] = await closed;
    assert.equal(code, 0, 'the playground ran on without a browser');
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }
});

test('npx daytime playground prints its address first, as the README says', {
  skip: !linux && 'Linux only',
}, async () => {
  // npx runs the CLI in processes of its own: a group of their own, ended together as a terminal would.
  const child = spawn('npx', ['--no-install', 'daytime', 'playground'], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const closed = once(child, 'close');
  try {
    const [first] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    assert.match(first, /^playground: http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
  } finally {
    process.kill(-(child.pid as number), 'SIGINT');
    await closed;
  }
});

test('daytime playground: a bad flag is one line and exit 2; --help says what it shows', async () => {
  const bad = await runCli(['playground', '--port', '70000']);
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    'daytime playground: --port must be a port number from 0 to 65535 or a service name from /etc/services, got "70000"\n',
  );
  assert.equal(bad.stdout, '');
  const help = await runCli(['playground', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--host <host>/);
  assert.match(help.stdout, /TCP_INFO/);
  assert.match(help.stdout, /token/);
});
