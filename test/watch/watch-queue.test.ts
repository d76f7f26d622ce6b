import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatWatchSample } from '../../src/watch/format.ts';
import { type WatchSample, watchQueue } from '../../src/watch/watch-queue.ts';
import { runBin, runCli } from '../helpers/cli.ts';
import { startCliServer, stopWithQueuedClients } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { HAS_PROC } from '../helpers/proc.ts';

const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;
// A socket that does not set SO_RCVBUF gets net.core.rmem_default; the kernel reports it as is.
const readRmemDefault = () => Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));

test('watch sees the queue of a stopped server fill to backlog + 1 and the overflow counters move', async (t) => {
  if (!HAS_PROC) return t.skip('the queue and the counters are read from /proc');
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--backlog', '2', '--quiet']);
  const clients = await stopWithQueuedClients(server, 6, 3);
  const samples: WatchSample[] = [];
  await watchQueue({ port: server.port, intervalMs: 1200, count: 2, onSample: (s) => samples.push(s) });
  process.kill(server.pid, 'SIGCONT');
  for (const c of clients) c.destroy();
  await server.stop();
  const [first, second] = samples;
  assert.equal(first?.tcp.length, 1);
  assert.equal(first?.tcp[0]?.queued, 3, 'backlog 2 queues 3');
  // With ss the backlog too; without it, /proc (tested below), and this check is left out.
  assert.equal(first?.source, hasSs ? 'ss' : 'proc');
  if (hasSs) assert.equal(first?.tcp[0]?.backlog, 2);
  assert.equal(first?.perSecond.listenOverflows, undefined, 'no rate before a second sample');
  // The 3 clients left out retransmit their SYNs about once a second; each drop counts.
  assert.ok((second?.perSecond.listenOverflows ?? 0) > 0, `overflows ${second?.perSecond.listenOverflows}/s`);
  if (!hasSs) missingPeer(t, 'ss (iproute2) is not installed: the backlog check is left out');
});

test('daytime watch --json --count 2 prints two NDJSON samples and exits 0', async () => {
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--udp', '--quiet']);
  const result = await runCli(['watch', String(server.port), '--json', '--count', '2', '--interval', '0.2']);
  await server.stop();
  assert.equal(result.code, 0, result.stderr);
  const samples = result.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(samples.length, 2);
  assert.equal(samples[0].port, server.port);
  assert.equal(samples[0].tcp[0].queued, 0);
  assert.ok(samples[0].udp.some((u: { local: string }) => u.local === `127.0.0.1:${server.port}`));
});

test('without ss, watch reads the queue from /proc/net/tcp (no backlog there)', async (t) => {
  if (!HAS_PROC) return t.skip('the fallback is /proc');
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--backlog', '2', '--quiet']);
  const clients = await stopWithQueuedClients(server, 6, 3);
  // runBin starts Node by its full path, so an empty PATH leaves the CLI without ss.
  const result = await runBin(['watch', String(server.port), '--json', '--count', '1'], {
    env: { PATH: '/nonexistent' },
  });
  process.kill(server.pid, 'SIGCONT');
  for (const c of clients) c.destroy();
  await server.stop();
  assert.equal(result.code, 0, result.stderr);
  const sample = JSON.parse(result.stdout);
  assert.equal(sample.source, 'proc');
  assert.equal(sample.tcp.length, 1);
  assert.equal(sample.tcp[0].queued, 3, 'backlog 2 queues 3');
  assert.equal(sample.tcp[0].backlog, undefined);
});

test('a UDP port whose server stops reading: watch shows its drops and UdpRcvbufErrors per second', async (t) => {
  if (!HAS_PROC) return t.skip('the drops and the counters are read from /proc');
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--udp', '--quiet']);
  process.kill(server.pid, 'SIGSTOP');
  const sender = dgram.createSocket('udp4');
  const samples: WatchSample[] = [];
  try {
    await watchQueue({
      port: server.port,
      intervalMs: 1000,
      count: 2,
      onSample: (sample) => {
        samples.push(sample);
        // Between the two samples: far more datagrams than the stopped server's receive buffer holds.
        if (samples.length === 1) for (let i = 0; i < 2000; i++) sender.send('x', server.port, '127.0.0.1');
      },
    });
  } finally {
    sender.close();
    process.kill(server.pid, 'SIGCONT');
    await server.stop();
  }
  const [first, second] = samples;
  const row = (s: WatchSample | undefined) => s?.udp.find((u) => u.local === `127.0.0.1:${server.port}`);
  assert.equal(row(first)?.drops, 0);
  assert.ok((row(second)?.drops ?? 0) > 0, `drops ${row(second)?.drops}`);
  assert.ok((row(second)?.queuedBytes ?? 0) > 0);
  // This socket's own drops a second, beside the namespace-wide counter.
  assert.equal(row(first)?.dropsPerSecond, undefined, 'no rate before a second sample');
  assert.ok((row(second)?.dropsPerSecond ?? 0) > 0, `drops ${row(second)?.dropsPerSecond}/s`);
  if (hasSs) assert.equal(row(second)?.receiveBuffer, readRmemDefault(), 'the buffer it fills (SO_RCVBUF)');
  assert.ok(
    (second?.perSecond.udpRcvbufErrors ?? 0) > 0,
    `RcvbufErrors ${second?.perSecond.udpRcvbufErrors}/s`,
  );
  if (!hasSs) missingPeer(t, 'ss (iproute2) is not installed: the receive buffer (ss -m) is left out');
});

test('the UDP row shows the buffer, the drops a second, and DROPPING while it drops', () => {
  const udp = {
    local: '127.0.0.1:9999',
    inode: 1,
    queuedBytes: 212_160,
    receiveBuffer: 212_992,
    drops: 4200,
    dropsPerSecond: 2100,
  };
  const sample = { time: 'now', port: 9999, source: 'ss' as const, tcp: [], udp: [udp], perSecond: {} };
  const text = formatWatchSample(sample);
  assert.match(
    text,
    /udp 127\.0\.0\.1:9999 +212160 of 212992 bytes waiting, 4200 dropped \(2100\/s\) {2}DROPPING/,
  );
  assert.doesNotMatch(formatWatchSample({ ...sample, udp: [{ ...udp, dropsPerSecond: 0 }] }), /DROPPING/);
});
