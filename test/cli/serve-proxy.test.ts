import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeProxyV1, encodeProxyV2 } from '../../src/protocol/proxy.ts';
import { CHAINS_UNAVAILABLE } from '../helpers/accept.ts';
import { spawnWithFileLimit, startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { descriptorTargets, HAS_PROC, isAlive, openDescriptors, waitFor } from '../helpers/proc.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';

const hasPrlimit = spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;

// A client that speaks for a balancer: the header, then it reads the reply to EOF.
function proxiedQuery(port: number, header: Buffer, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(header));
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('no reply in time')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

// What --proxy-protocol takes by itself here.
const AUTO_PROXY_PATH = !CHAINS_UNAVAILABLE
  ? 'proxy-uring'
  : process.platform === 'linux'
    ? 'proxy-libc'
    : 'proxy-socket';

test('--proxy-protocol with --udp says UDP is answered without a header; metrics count headers and refusals', async () => {
  const metricsPort = await freePort();
  const server = await startQuietServer([
    '--proxy-protocol',
    '--proxy-from',
    '127.0.0.1',
    '--proxy-timeout',
    '0.3',
    '--udp',
    '--metrics',
    `127.0.0.1:${metricsPort}`,
  ]);
  assert.ok(server.logs.some((l) => l.level === 40 && /applies to TCP only/.test(String(l.msg))));
  const ready = server.logs.find((l) => l.ready);
  assert.equal(ready?.acceptPath, AUTO_PROXY_PATH);
  assert.equal(ready?.proxyFrom, '127.0.0.1');
  assert.match(String(ready?.msg), /believed only from 127\.0\.0\.1/);
  const self = { address: '127.0.0.1', port: server.port };
  assert.match(
    await proxiedQuery(server.port, encodeProxyV1({ address: '192.0.2.1', port: 1 }, self)),
    CTIME_LINE,
  );
  assert.match(await proxiedQuery(server.port, encodeProxyV2()), CTIME_LINE);
  const silent = net.connect(server.port, '127.0.0.1');
  silent.on('error', () => {});
  await once(silent, 'close');
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  await server.stop();
  assert.match(body, /^daytime_proxy_headers_total\{version="v1",command="PROXY"\} 1$/m);
  assert.match(body, /^daytime_proxy_headers_total\{version="v2",command="LOCAL"\} 1$/m);
  assert.match(body, /^daytime_proxy_refused_total\{reason="timeout"\} 1$/m);
  assert.match(body, /^daytime_accept_path_listeners\{path="proxy-(uring|libc|socket)"\} 1$/m);
});

test('a flood of clients that connect and say nothing cannot take the descriptors (ulimit -n 256)', async (t) => {
  if (!hasPrlimit) return missingPeer(t, 'prlimit (util-linux) is missing');
  if (!HAS_PROC) return t.skip('descriptor counts need /proc');
  // A header timeout long enough that only the cap on waiting connections can free descriptors.
  const { pid, port, exited } = await spawnWithFileLimit(256, [
    '--proxy-protocol',
    '--proxy-from',
    '127.0.0.1',
    '--proxy-timeout',
    '60',
  ]);
  const idle: net.Socket[] = [];
  try {
    const baseline = openDescriptors(pid);
    const before = descriptorTargets(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      if (isAlive(pid)) peak = Math.max(peak, openDescriptors(pid));
    }, 20);
    for (let i = 0; i < 1000; i++) {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      idle.push(socket);
    }
    const header = encodeProxyV2({ address: '203.0.113.9', port: 4242 }, { address: '127.0.0.1', port });
    const replies = await Promise.all(Array.from({ length: 200 }, () => proxiedQuery(port, header)));
    clearInterval(sampler);
    for (const reply of replies) assert.match(reply, CTIME_LINE);
    assert.ok(isAlive(pid), 'the server is alive');
    assert.ok(peak < 256, `peak ${peak} descriptors under the limit of 256`);
    for (const socket of idle) socket.destroy();
    const after = await waitFor(
      () => openDescriptors(pid),
      (n) => n <= baseline,
    ).catch(() => openDescriptors(pid));
    const stayed = descriptorTargets(pid).filter((d) => !before.includes(d));
    assert.ok(
      after <= baseline,
      `descriptors back to ${baseline}: ${after}; new since: ${stayed.join(', ')}`,
    );
  } finally {
    for (const socket of idle) socket.destroy();
    process.kill(pid, 'SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  }
  await sleep(0);
});
