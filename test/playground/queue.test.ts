import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { createPlaygroundApp } from '../../src/playground/app.ts';
import { namespaceUnavailable } from '../../src/playground/run-playground.ts';
import type { PlaygroundSnapshot } from '../../src/playground/state.ts';
import { missingPeer } from '../helpers/peers.ts';
import { api, assertSsSays, finished, waitForState } from './support.ts';

const linux = process.platform === 'linux';

// Backlog 1, 8 clients at once, nobody accepting: the kernel holds 2 (backlog + 1) and `ss` says so;
// the other 6 wait in SYN retransmissions. Then accepting as fast as possible.
async function notAcceptingThenAccepting(t: TestContext, extra: Record<string, number>) {
  const app = await createPlaygroundApp({ port: 0 });
  try {
    const start = await api(app.port, app.token, 'POST', '/api/run', {
      backlog: 1,
      clients: 8,
      arrivalPerSecond: 0,
      acceptsPerSecond: 0,
      clientTimeoutS: 8,
      ...extra,
    });
    assert.equal(start.status, 202, start.body);
    // Every client either in the queue or waiting with a retransmitted SYN (or lost to a cookie).
    const full = await waitForState(
      app.port,
      app.token,
      (s) =>
        s.listener?.queued === 2 &&
        s.clients.every((c) => c.state === 'queued' || c.state === 'lost' || c.retransmits >= 1),
      'a full queue and SYN retransmissions',
    );
    assert.deepEqual(
      { queued: full.listener?.queued, backlog: full.listener?.backlog },
      { queued: 2, backlog: 1 },
      'TCP_INFO on the listener: 2 queued, backlog 1',
    );
    const queued = full.clients.filter((c) => c.state === 'queued').map((c) => c.id);
    assert.equal(queued.length, 2, 'two clients in the accept queue, by the server’s side');
    assertSsSays(t, full, [2, 1]);
    const waiting = full.clients.filter((c) => c.state === 'connecting').map((c) => c.id);
    assert.ok(waiting.length >= 1, 'clients beyond the queue wait in SYN_SENT');

    const patched = await api(app.port, app.token, 'PATCH', '/api/run', { acceptsPerSecond: 'max' });
    assert.deepEqual(patched.json(), { acceptsPerSecond: 'max' });
    const done = await waitForState(app.port, app.token, finished, 'the run to end', 90_000);
    assert.equal(done.status, 'finished');
    const byId = (id: number) => done.clients[id - 1];
    for (const id of queued) assert.equal(byId(id)?.state, 'served', `queued client ${id} served`);
    for (const id of waiting) {
      const c = byId(id);
      assert.ok(c && c.retransmits >= 1, `client ${id} waited for a retransmission`);
      assert.ok(c.state === 'served' || c.state === 'lost', `client ${id}: ${c.state}`);
    }
    assert.deepEqual(
      done.acceptChanges.map((c) => c.rate),
      [0, 'max'],
    );
    return { done, waiting };
  } finally {
    await app.close();
  }
}

test('backlog 1, 8 clients, 0 accepts: 2 queued (ss agrees), 6 in SYN retransmissions; accepting serves the queue, and the waiters get in or are lost to SYN cookies', {
  skip: !linux && 'Linux only',
}, async (t) => {
  const { done, waiting } = await notAcceptingThenAccepting(t, {});
  const lost = done.clients.filter((c) => c.state === 'lost').length;
  const waited = done.clients.filter((c) => c.retransmits > 0).length;
  assert.equal(waited, waiting.length);
  assert.match(done.summary?.text ?? '', /Backlog 1 held 2/);
  assert.match(done.summary?.text ?? '', new RegExp(`${waited} clients waited for SYN retransmissions`));
  assert.equal(done.summary?.question.id, 'Q1');
  // In a namespace of its own, the counters are the run's alone: a lost client is a cookie whose ACK
  // met the full queue, so the kernel sent at least that many cookies.
  if (done.namespace && lost > 0) {
    assert.ok((done.counters.TcpExtSyncookiesSent ?? 0) >= lost, JSON.stringify(done.counters));
  }
  if (done.namespace) assert.ok((done.counters.TcpExtListenOverflows ?? 0) > 0);
  // Without a namespace of its own the counters are everyone's: those two checks are left out.
  else
    missingPeer(
      t,
      `the run had no namespace of its own (${namespaceUnavailable()}): the counters are not checked`,
    );
});

test('the same with tcp_syncookies = 0 in the run’s own namespace: accepting serves all 8, the 6 after SYN retransmissions', {
  skip: !linux && 'Linux only',
}, async (t) => {
  const why = namespaceUnavailable();
  if (why) return missingPeer(t, why);
  const { done } = await notAcceptingThenAccepting(t, { tcp_syncookies: 0 });
  assert.equal(done.sysctls['net.ipv4.tcp_syncookies'], 0);
  assert.deepEqual(
    done.clients.map((c) => c.state),
    Array(8).fill('served'),
  );
  const waited = done.clients.filter((c: PlaygroundSnapshot['clients'][number]) => c.retransmits > 0);
  assert.equal(waited.length, 6);
  assert.equal(done.counters.TcpExtSyncookiesSent ?? 0, 0);
  assert.match(
    done.summary?.text ?? '',
    /6 clients waited for SYN retransmissions \([^)]*\): all got in after/,
  );
});
