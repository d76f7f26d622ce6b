import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCEPTS } from '../../src/tcp/accept/uring-accept-path.ts';
import { SLOTS } from '../../src/tcp/accept/uring-slots.ts';
import { CHAINS_UNAVAILABLE, URING_UNAVAILABLE } from '../helpers/accept.ts';
import { startQuietServer } from '../helpers/cli-server.ts';
import { missingPeer } from '../helpers/peers.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';

// What a server on the uring path loses when it is killed in the middle of a burst: the connections the
// kernel accepted for it and it had not answered yet. Those clients see EOF without a line; the ones
// still in the kernel's queue are reset when the listener goes (with --workers they wait for the next
// worker instead). However the kill falls, at most the accepts in flight (uring-accept) or the slots
// (uring's chains) can hold a connection accepted and unanswered.

type Outcome = 'served' | 'eof' | 'reset';

function client(port: number, connected: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', connected);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.destroy();
      resolve(CTIME_LINE.test(Buffer.concat(chunks).toString('latin1')) ? 'served' : 'eof');
    });
    socket.on('error', () => resolve(chunks.length > 0 ? 'served' : 'reset'));
  });
}

for (const [accept, bound, why] of [
  ['uring-accept', ACCEPTS, URING_UNAVAILABLE],
  ['uring', SLOTS, CHAINS_UNAVAILABLE],
] as const)
  test(`--accept ${accept} killed while it takes a burst of 600: at most ${bound} clients accepted and unanswered`, async (t) => {
    if (why) return missingPeer(t, why);
    const server = await startQuietServer(['--accept', accept, '--backlog', '1024']);
    process.kill(server.pid, 'SIGSTOP');
    let connected = 0;
    const outcomes = Array.from({ length: 600 }, () => client(server.port, () => connected++));
    // Every handshake completes in the kernel while the server is stopped: 600 connections queued.
    for (let i = 0; i < 600 && connected < 600; i++) await sleep(50);
    assert.equal(connected, 600, 'the whole burst is queued');
    process.kill(server.pid, 'SIGCONT');
    await sleep(5);
    await server.stop('SIGKILL');
    const counts: Record<Outcome, number> = { served: 0, eof: 0, reset: 0 };
    for (const outcome of await Promise.all(outcomes)) counts[outcome]++;
    assert.ok(counts.eof <= bound, `accepted and lost: ${JSON.stringify(counts)}`);
    assert.ok(counts.reset > 0, `the kill came while clients were still queued: ${JSON.stringify(counts)}`);
  });
