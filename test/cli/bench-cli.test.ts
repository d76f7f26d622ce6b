import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { constants } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDaytimeServer } from '../../src/index.ts';
import { collect, pressCtrlC, runCli, spawnBin, spawnNpx } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/proc.ts';
import { listenPort } from '../helpers/raw-client.ts';

// Closed ports and Ctrl-C, as a user meets them from the shell.

// --duration 600: without the early stop this runs for ten minutes and the test times out.
test('bench against a closed port stops at once with one line and no latency figures', {
  timeout: 90_000,
}, async () => {
  const closed = await freePort();
  for (const json of [[], ['--json']]) {
    const result = await runCli(['bench', `127.0.0.1:${closed}`, '--duration', '600', ...json]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '', 'no result object: nothing was measured');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^daytime bench: nothing accepted a connection at 127\\.0\\.0\\.1:${closed}: [\\d,]+ attempts refused`,
      ),
    );
    assert.doesNotMatch(result.stderr, /latency|p50/);
  }
});

test('bench --time defaults to port 37, as get --time does', async () => {
  const [bench, get] = await Promise.all([
    runCli(['bench', '--time', '--count', '1', '--json', '--timeout', '2']),
    runCli(['get', '--time', '--json', '--timeout', '2']),
  ]);
  // Whether or not a time server answers on 37 here, both asked port 37.
  for (const result of [bench, get]) assert.match(result.stdout + result.stderr, /localhost:37\b|:37"/);
});

describe('Ctrl-C on bench', () => {
  // A run meant to last ten minutes, cut short once it has served some connections (by Ctrl-C, or by
  // `stop`). Each run has a server of its own, so the count is that run's: a signal must not reach a
  // bench that has not started yet (it would die of it, as any process without its handler does).
  const interrupt = async (
    spawnRun: (args: string[]) => ChildProcess,
    extra: string[] = [],
    stop: (child: ChildProcess) => void = pressCtrlC,
  ) => {
    const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
    const port = await listenPort(server);
    try {
      const child = spawnRun([
        'bench',
        `127.0.0.1:${port}`,
        '--duration',
        '600',
        '--connections',
        '4',
        ...extra,
      ]);
      const done = collect(child);
      await waitFor(
        () => server.stats().served,
        (n) => n >= 100,
        'the run under way',
      );
      stop(child);
      return await done;
    } finally {
      await server.close();
    }
  };

  test('npx daytime bench: the partial table, marked interrupted, no stack trace', {
    timeout: 90_000,
  }, async () => {
    const result = await interrupt((args) => spawnNpx(args, { foreground: true }));
    assert.match(
      result.stderr,
      /^interrupted {2}stopped before its end \(Ctrl-C, SIGTERM or SIGHUP\): the figures below are partial$/m,
    );
    assert.match(result.stderr, /^ok {11}[\d,]+$/m);
    assert.match(result.stderr, /^latency ms {3}p50 /m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('the bin exits 130; with --json the result says interrupted', { timeout: 90_000 }, async () => {
    const [table, json] = await Promise.all([interrupt(spawnBin), interrupt(spawnBin, ['--json'])]);
    assert.equal(table.code, 130, table.stderr);
    assert.equal(json.code, 130, json.stderr);
    const result = JSON.parse(json.stdout);
    assert.equal(result.interrupted, true);
    assert.ok(result.ok > 0);
  });

  // kill, timeout and systemd send SIGTERM to bench itself; a closed terminal sends SIGHUP.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    test(`${signal}: the result as JSON, marked interrupted, exit 128 + ${signal}`, {
      timeout: 90_000,
    }, async () => {
      const toBench = (child: ChildProcess) => process.kill(child.pid as number, signal);
      const result = await interrupt(spawnBin, ['--json'], toBench);
      assert.equal(result.code, 128 + constants.signals[signal], result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
      const json = JSON.parse(result.stdout);
      assert.equal(json.interrupted, true);
      assert.ok(json.ok > 0);
    });
  }
});

// --timeout 600: a stop that waits for the connections in flight takes ten minutes, and the test
// times out.
describe('Ctrl-C on bench against a server that never answers', () => {
  const held = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    held.add(socket.on('close', () => held.delete(socket)));
  });
  let port = 0;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });

  for (const path of ['socket', 'handle', 'libc', 'uring']) {
    test(`--connect ${path}: stops at once, the connections in flight given up; the JSON, exit 130`, {
      timeout: 90_000,
    }, async (t) => {
      const args = ['bench', `127.0.0.1:${port}`, '--connect', path, '--connections', '4'];
      const child = spawnBin([...args, '--count', '4', '--timeout', '600', '--json']);
      const done = collect(child);
      let exited = false;
      void done.then(() => {
        exited = true;
      });
      const before = held.size;
      while (held.size < before + 4 && !exited) await sleep(50);
      if (exited) {
        const { stderr } = await done;
        assert.match(stderr, /cannot run here/, stderr);
        return t.skip(stderr.trim());
      }
      pressCtrlC(child);
      const result = await done;
      assert.equal(result.code, 130, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.equal(json.interrupted, true);
      assert.equal(json.completed, 0, 'no connection finished: they were given up, not counted');
    });
  }
});
