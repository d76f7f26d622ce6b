import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { type BenchProgress, runBench } from '../../src/load-generator/run-bench.ts';
import { AUTO_CONNECT_PATH, TESTED_CONNECT_PATHS } from '../helpers/accept.ts';
import { runCli } from '../helpers/cli.ts';
import { startQuietServer, stopWithQueuedClients } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { listenPort } from '../helpers/raw-client.ts';

// Progress as onProgress reported it: completed never goes back nor past the result, and the fraction
// is what `fraction` says it should be. (Worker threads send their counts every 250 ms, so a short run
// may report none completed yet.)
function assertProgress(
  progress: BenchProgress[],
  completed: number,
  fraction: (p: BenchProgress) => number,
) {
  for (const [i, p] of progress.entries()) {
    assert.ok(
      p.completed >= (progress[i - 1]?.completed ?? 0) && p.completed <= completed,
      JSON.stringify(p),
    );
    assert.ok(Math.abs(p.fraction - fraction(p)) < 1e-9, JSON.stringify(p));
  }
}

describe('runBench against our server', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0, timePort: 0 });
  let daytime = 0;
  let time = 0;
  before(async () => {
    const listeners = await server.listen();
    daytime = listeners[0]?.port ?? 0;
    time = listeners[1]?.port ?? 0;
  });
  after(() => server.close());

  for (const [workers, connect] of TESTED_CONNECT_PATHS.flatMap((path) => [
    [1, path] as const,
    [2, path] as const,
  ])) {
    test(`a count of 2,000 over ${workers} worker(s) on --connect ${connect}: all ok, progress reported`, async () => {
      const progress: BenchProgress[] = [];
      const result = await runBench({
        host: '127.0.0.1',
        port: daytime,
        count: 2000,
        connections: 16,
        workers,
        connect,
        progressIntervalMs: 50,
        onProgress: (p) => progress.push(p),
      });
      assert.equal(result.connectPath, connect);
      assert.equal(result.ok, 2000);
      assert.equal(result.completed, 2000);
      assert.deepEqual(Object.values(result.errors), [0, 0, 0, 0, 0, 0]);
      assert.ok(result.connPerSec > 0);
      const latency = result.latencyMs;
      assert.ok(latency && latency.p50 > 0 && latency.p50 <= latency.p99);
      assert.ok(latency.p99 <= latency.max);
      // A run longer than the interval reported on the way (the timed run below always does).
      if (result.durationMs > 100) assert.ok(progress.length > 0, `no progress in ${result.durationMs} ms`);
      assertProgress(progress, result.completed, (p) => p.completed / 2000);
    });
  }

  test('--time expects 4 bytes: a daytime port is all short reads, a time port all ok', async () => {
    const wrong = await runBench({ host: '127.0.0.1', port: daytime, count: 50, service: 'time' });
    assert.equal(wrong.errors.otherProtocol, 50, 'a line where 4 bytes were expected: the other protocol');
    assert.equal(wrong.latencyMs, null, 'no latency for replies that were not ok');
    const timeOnDaytime = await runBench({ host: '127.0.0.1', port: time, count: 50 });
    assert.equal(timeOnDaytime.errors.otherProtocol, 50, '4 bytes where a line was expected');
    const right = await runBench({ host: '127.0.0.1', port: time, count: 50, service: 'time' });
    assert.equal(right.ok, 50);
  });

  for (const [workers, connect] of TESTED_CONNECT_PATHS.flatMap((path) => [
    [1, path] as const,
    [2, path] as const,
  ]))
    test(`an aborted run stops early and still reports (--connect ${connect}, ${workers} worker(s))`, async () => {
      // Aborted once it has served some: worker threads may take a while to start on a busy machine.
      const stop = new AbortController();
      const result = await runBench({
        host: '127.0.0.1',
        port: daytime,
        duration: 60,
        workers,
        connect,
        progressIntervalMs: 50,
        onProgress: (p) => {
          if (p.ok > 0) stop.abort();
        },
        signal: stop.signal,
      });
      assert.ok(result.durationMs < 30_000);
      assert.ok(result.ok > 0);
      assert.equal(result.interrupted, true, 'the result says the run was cut short');
    });

  for (const connect of TESTED_CONNECT_PATHS)
    test(`--duration: a timed run (--connect ${connect}) reports a rate over its window, and progress on the way`, async () => {
      const progress: BenchProgress[] = [];
      const result = await runBench({
        host: '127.0.0.1',
        port: daytime,
        duration: 1,
        connections: 8,
        connect,
        progressIntervalMs: 100,
        onProgress: (p) => progress.push(p),
      });
      assert.ok(result.durationMs >= 1000 && result.durationMs < 30_000, `${result.durationMs} ms`);
      // A second at least, reported every 100 ms: several reports, the fraction that of the second.
      assert.ok(progress.length >= 2, `${progress.length} progress reports in ${result.durationMs} ms`);
      assertProgress(progress, result.completed, (p) => Math.min(1, p.elapsedMs / 1000));
      assert.ok((progress.at(-1)?.completed ?? 0) > 0, 'completed connections reported on the way');
      assert.equal(result.completed, result.ok);
      assert.ok(result.connPerSec > 0 && result.connPerSec <= result.ok * 1.5, `${result.connPerSec}/s`);
    });
});

for (const connect of TESTED_CONNECT_PATHS) {
  test(`errors are counted by kind on --connect ${connect}: refused, timeout, reset, short read`, async () => {
    const silent = net.createServer(() => {}).listen(0, '127.0.0.1');
    const shorty = net.createServer((s) => s.end('no line')).listen(0, '127.0.0.1');
    const resetting = net.createServer((s) => s.resetAndDestroy()).listen(0, '127.0.0.1');
    const servers = [silent, shorty, resetting];
    await Promise.all(servers.map((s) => new Promise((r) => s.once('listening', r))));
    const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;
    const gonePort = await freePort();
    const base = { host: '127.0.0.1', connect };
    // A port where nothing accepts is no run at all: the engine says so instead of reporting figures.
    const refused = assert.rejects(runBench({ ...base, port: gonePort, count: 20, connections: 4 }), {
      code: 'ECONNREFUSED',
      message: new RegExp(
        `^nothing accepted a connection at 127\\.0\\.0\\.1:${gonePort}: 20 attempts refused`,
      ),
    });
    const [, timedOut, short, reset] = await Promise.all([
      refused,
      runBench({ ...base, port: portOf(silent), count: 4, connections: 4, timeout: 0.3 }),
      runBench({ ...base, port: portOf(shorty), count: 20, connections: 4 }),
      runBench({ ...base, port: portOf(resetting), count: 20, connections: 4 }),
    ]);
    for (const s of [silent, shorty, resetting]) s.close();
    assert.equal(timedOut.errors.timeout, 4);
    assert.equal(short.errors.shortRead, 20);
    assert.equal(reset.errors.reset, 20);
    assert.equal(reset.ok, 0);
  });
}

test('IPv6: every connect path connects to [::1]', async (t) => {
  const server = createDaytimeServer({ host: '::1', port: 0 });
  let port: number;
  try {
    port = await listenPort(server);
  } catch (error) {
    return missingPeer(t, `no IPv6 loopback here: ${(error as Error).message}`);
  }
  try {
    for (const connect of TESTED_CONNECT_PATHS) {
      const result = await runBench({ host: '::1', port, count: 100, connections: 8, connect });
      assert.equal(result.ok, 100, `--connect ${connect}`);
      assert.equal(result.connectPath, connect);
      assert.equal(result.target, `[::1]:${port}`);
    }
  } finally {
    await server.close();
  }
});

for (const connect of TESTED_CONNECT_PATHS)
  test(`connections that waited for a SYN retransmission are counted as taking 1 s or more (--connect ${connect})`, async () => {
    const server = await startQuietServer(['--backlog', '5']);
    // Stopped, the server accepts nothing. Six connections fill its queue (backlog + 1) first, so every
    // SYN of the bench meets a full queue and is dropped; the clients retry after 1 s, 2 s...
    // (A burst into a queue that is not yet full can instead fill the SYN queue: the kernel then answers
    // with SYN cookies, and a cookie ACK dropped on the full accept queue leaves a client that waits for
    // the server to speak, as daytime clients do, hanging until its own timeout.)
    const fillers = await stopWithQueuedClients(server, 6);
    setTimeout(() => process.kill(server.pid, 'SIGCONT'), 1500);
    const result = await runBench({
      host: '127.0.0.1',
      port: server.port,
      count: 6,
      connections: 6,
      timeout: 30,
      connect,
    });
    for (const f of fillers) f.destroy();
    await server.stop();
    assert.equal(result.ok, 6);
    assert.equal(result.slow, 6);
    assert.ok((result.latencyMs?.p50 ?? 0) >= 1000);
  });

test('daytime bench --json prints one result object; a failing target exits 1', async () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  const port = await listenPort(server);
  const ok = await runCli(['bench', `127.0.0.1:${port}`, '--count', '200', '--json']);
  const slow = await runCli([
    'bench',
    `127.0.0.1:${port}`,
    '--count',
    '200',
    '--connect',
    'socket',
    '--json',
  ]);
  await server.close();
  assert.equal(ok.code, 0, ok.stderr);
  const result = JSON.parse(ok.stdout);
  assert.equal(result.ok, 200);
  assert.equal(result.connectPath, AUTO_CONNECT_PATH);
  assert.equal(typeof result.latencyMs.p999, 'number');
  assert.equal(slow.code, 0, slow.stderr);
  assert.deepEqual([JSON.parse(slow.stdout).ok, JSON.parse(slow.stdout).connectPath], [200, 'socket']);
  const closed = await freePort();
  const failed = await runCli(['bench', `127.0.0.1:${closed}`, '--count', '5', '--json']);
  assert.equal(failed.code, 1);
  assert.equal(failed.stdout, '');
  assert.match(failed.stderr, /^daytime bench: nothing accepted a connection at .*: 5 attempts refused/);
});
