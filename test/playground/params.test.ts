import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PARAMS, normalizePlaygroundParams, PRESETS } from '../../src/playground/params.ts';
import { applyTick, type ClientView, idleSnapshot } from '../../src/playground/state.ts';
import { summarizeRun } from '../../src/playground/summary.ts';

test('parameters: defaults, numbers from a URL, "max", and sysctls only where a namespace can be had', () => {
  assert.deepEqual(normalizePlaygroundParams({}, undefined), DEFAULT_PARAMS);
  const fromUrl = normalizePlaygroundParams(
    { backlog: '0', clients: '500', acceptsPerSecond: 'max' },
    'needs root',
  );
  assert.deepEqual([fromUrl.backlog, fromUrl.clients, fromUrl.acceptsPerSecond], [0, 500, 'max']);
  assert.deepEqual(normalizePlaygroundParams({ tcp_syncookies: 0, somaxconn: 8 }, undefined).sysctls, {
    tcp_syncookies: 0,
    somaxconn: 8,
  });
  assert.throws(
    () =>
      normalizePlaygroundParams({ tcp_syncookies: 0 }, 'needs root, to create a private network namespace'),
    /tcp_syncookies must be left unset here, got 0\. Setting it needs root/,
  );
  assert.throws(() => normalizePlaygroundParams([], undefined), /parameters must be a JSON object/);
  assert.throws(() => normalizePlaygroundParams({ tcp_syncookies: 3 }, undefined), /from 0 to 2/);
  // Every preset is a valid run where namespaces can be had.
  for (const preset of PRESETS) normalizePlaygroundParams(preset.params, undefined);
});

const client = (id: number, over: Partial<ClientView>): ClientView => ({
  id,
  state: 'served',
  retransmits: 0,
  done: true,
  port: 40000 + id,
  startedS: 0,
  connectedS: 0.01,
  servedS: 0.02,
  steps: [],
  ...over,
});

test('the summary says what the snapshot holds, in words and numbers, and names the lab question', () => {
  const clients = [
    client(1, {}),
    client(2, {}),
    client(3, { retransmits: 1, connectedS: 1.02, servedS: 1.03 }),
    client(4, { retransmits: 2, connectedS: 2.04, servedS: 2.05 }),
    client(5, { state: 'lost', retransmits: 1, connectedS: 1.02, servedS: null }),
  ];
  const summary = summarizeRun(
    { ...DEFAULT_PARAMS, backlog: 1, clients: 5 },
    clients,
    { port: 1, queued: 0, backlog: 1, peakQueued: 2 },
    { TcpExtListenOverflows: 7, TcpExtSyncookiesSent: 1 },
  );
  assert.equal(
    summary.text,
    'Backlog 1 held 2: the accept queue was full at backlog + 1. Of 5 clients: 4 served, 1 lost. ' +
      '3 clients waited for SYN retransmissions (up to 2 each): 2 got in after 1.0 and 2.0 s, 1 lost. ' +
      "1 client was lost: connected by its own account while the server held nothing for it; the kernel had answered 1 SYN with a cookie, and a cookie's ACK that meets a full accept queue is dropped. " +
      'The kernel counted ListenOverflows +7, SyncookiesSent +1.',
  );
  assert.deepEqual(summary.question, {
    id: 'Q1',
    question: 'Is listen(5) different from listen(1)?',
    href: '/lab-report.html#q1',
  });
  const zero = summarizeRun({ ...DEFAULT_PARAMS, backlog: 0 }, [], null, {});
  assert.equal(zero.question.id, 'Q2');
});

test('a tick replaces what it carries and only the clients that changed', () => {
  const start = applyTick(idleSnapshot(3), { status: 'running', clients: [client(1, {}), client(2, {})] });
  const next = applyTick(start, { elapsedS: 1, clients: [client(2, { state: 'lost' })] });
  assert.equal(next.run, 3);
  assert.equal(next.status, 'running');
  assert.deepEqual(
    next.clients.map((c) => c.state),
    ['served', 'lost'],
  );
  assert.equal(start.clients[1]?.state, 'served', 'the earlier snapshot is left as it was');
});
