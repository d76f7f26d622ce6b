import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
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
  // A run meant to last ten minutes, cut short once it has served some connections. Each run has a
  // server of its own, so the count is that run's: a Ctrl-C must not reach a bench that has not
  // started yet (it would die of the signal, as any process without its handler does).
  const interrupt = async (spawnRun: (args: string[]) => ChildProcess, extra: string[] = []) => {
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
      pressCtrlC(child);
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
      /^interrupted {2}stopped before its end \(Ctrl-C\): the figures below are partial$/m,
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
});
