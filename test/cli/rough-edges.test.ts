import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { queryTime } from '../../src/index.ts';
import { CLI_ENV, collect, pressCtrlC, ROOT, runCli, spawnCli, spawnNpx } from '../helpers/cli.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { rawQuery } from '../helpers/raw-client.ts';

// What a user sees on every run: npm start, ps and ss, --help, the pretty log.

// Everything the child writes to stdout, and a wait for a line that matches (from the first byte on).
function readLines(child: ReturnType<typeof spawn>) {
  let text = '';
  const waiters: (() => void)[] = [];
  child.stdout?.on('data', (chunk) => {
    text += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const until = (pattern: RegExp): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const lines = text.split('\n');
        if (lines.some((l) => pattern.test(l))) resolve(lines);
        else if (child.exitCode !== null) reject(new Error(`exited before ${pattern}: ${text}`));
        else waiters.push(check);
      };
      check();
    });
  return { until, text: () => text };
}

// The README's first screen: the set-up block, then the query, as a newcomer copies them.
function firstScreen(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1] ?? '');
  return blocks.flatMap((b) =>
    b
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/\s+#.*$/, '')),
  );
}

test('npm start -s, as the README says: no banner, no rebuild, and exit 0 after Ctrl-C drains', async () => {
  assert.deepEqual(firstScreen(), ['npm ci', 'npm test', 'npm start -s', 'npx daytime get']);
  const built = statSync(`${ROOT}dist/cli.js`).mtimeMs;
  const child = spawn('npm', ['start', '-s', '--', '--host', '127.0.0.1', '--port', '0'], {
    cwd: ROOT,
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const done = collect(child);
  const lines = await readLines(child).until(/"ready":true/);
  // (Info, or as root the warning that the server runs as root: serve-user.test.ts.)
  assert.match(lines[0] ?? '', /^\{"level":(30|40),"time":\d+,/, "the first line is the server's own");
  const ready = JSON.parse(lines.find((l) => l.includes('"ready":true')) ?? '{}');
  // The README's query as written (npx), on the port this test's server got.
  const query = await collect(spawnNpx(['get', `127.0.0.1:${ready.port}`]));
  assert.equal(query.code, 0, query.stderr);
  assert.match(query.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/);
  // The terminal's SIGINT reaches npm and the server; npm forwards it again, within the same moment.
  pressCtrlC(child);
  const { code, signal, stdout, stderr } = await done;
  assert.equal(stderr, '');
  assert.match(stdout, /"msg":"server closed"/);
  assert.deepEqual([code, signal], [0, null], 'a clean drain is a clean exit');
  assert.equal(statSync(`${ROOT}dist/cli.js`).mtimeMs, built, 'npm start did not rebuild');
});

test('ps and ss -p show "daytime serve", not MainThread, and ps aux the flags', async (t) => {
  if (process.platform !== 'linux') return t.skip('process names are read from /proc');
  const server = await startQuietServer();
  try {
    assert.equal(readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim(), 'daytime serve');
    const ps = spawnSync('ps', ['-o', 'comm=,args=', '-p', String(server.pid)], { encoding: 'utf8' });
    // The name, then the command line without node and the script's path: the flags stay visible.
    if (ps.status === 0)
      assert.match(
        ps.stdout.trim(),
        /^daytime serve +daytime serve --log-format json --host 127\.0\.0\.1 --port 0/,
      );
    const ss = spawnSync('ss', ['-Hltnp', `sport = :${server.port}`], { encoding: 'utf8' });
    if (ss.status !== 0) return missingPeer(t, 'ss (iproute2) is not installed');
    assert.match(ss.stdout, new RegExp(`users:\\(\\("daytime serve",pid=${server.pid},`));
  } finally {
    await server.stop();
  }
});

test('--help of every command: at most 80 columns, defaults unquoted, no stray line break', async () => {
  const commands = ['', 'serve', 'get', 'bench', 'watch', 'lab', 'fleet', 'playground'];
  const results = await Promise.all(commands.map((c) => runCli([...(c ? [c] : []), '--help'])));
  results.forEach((result, i) => {
    const label = `daytime ${commands[i]} --help`;
    assert.equal(result.code, 0, label);
    const wide = result.stdout.split('\n').filter((line) => line.length > 80);
    assert.deepEqual(wide, [], `${label}: lines wider than 80 columns`);
    assert.doesNotMatch(result.stdout, /\(default: "/, `${label}: a quoted default`);
  });
  const serve = results[1]?.stdout ?? '';
  assert.match(serve, /\(default: 9999\)/);
  // The description is one paragraph, wrapped where the width says, not where the source broke it.
  assert.match(
    serve,
    /^Serve RFC 867 daytime over TCP: each connection gets one line with the time,\nthen EOF\. Optionally RFC 868/m,
  );
  for (const command of ['bench', 'watch'])
    assert.match(results[commands.indexOf(command)]?.stdout ?? '', /-n, --count <n>/);
  assert.doesNotMatch(
    results[commands.indexOf('fleet')]?.stdout ?? '',
    /-n, /,
    "fleet's -n is not --count's",
  );
});

test('the pretty log line names the service: daytime or time', async (t) => {
  const child = spawnCli(
    ['serve', '--host', '127.0.0.1', '--port', '0', '--time-port', '0', '--log-format', 'pretty'],
    { foreground: true },
  );
  const done = collect(child);
  // Also when a wait below never ends (the test's timeout): the server must not outlive the test.
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid ?? 0), 'SIGKILL');
  });
  const output = readLines(child);
  try {
    const started = (await output.until(/INFO {2}ready: /)).join('\n');
    const port = (service: string) =>
      Number(new RegExp(`INFO  ${service} listening on 127\\.0\\.0\\.1:(\\d+)/tcp`).exec(started)?.[1]);
    await queryTime({ host: '127.0.0.1', port: port('time') });
    await rawQuery(port('daytime'));
    await output.until(/daytime: Got a connection/);
    await output.until(/time: Got a connection/);
  } finally {
    pressCtrlC(child);
    await done;
  }
  const text = output.text();
  assert.match(text, /^\d\d:\d\d:\d\d INFO {2}time: Got a connection from 127\.0\.0\.1:\d+$/m);
  assert.match(text, /^\d\d:\d\d:\d\d INFO {2}daytime: Got a connection from 127\.0\.0\.1:\d+$/m);
});
