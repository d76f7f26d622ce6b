import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPlaygroundApp, type PlaygroundApp } from '../../src/playground/app.ts';
import { namespaceUnavailable } from '../../src/playground/run-playground.ts';
import { alive, api, finished, request, waitForState } from './support.ts';

const linux = process.platform === 'linux';

describe('the API refuses what it must', { skip: !linux && 'Linux only' }, () => {
  let app: PlaygroundApp;
  before(async () => {
    app = await createPlaygroundApp({ port: 0 });
  });
  after(() => app.close());

  test('every API call needs the token: none, a wrong one → 401; the header or ?token= → 200', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer nope' },
      { authorization: `Bearer ${app.token}x` },
    ] as Record<string, string>[]) {
      const reply = await request(app.port, { headers });
      assert.equal(reply.status, 401);
      assert.equal(reply.json().error?.code, 'ERR_TOKEN');
    }
    assert.equal((await request(app.port, { path: '/api/state?token=wrong' })).status, 401);
    assert.equal((await api(app.port, app.token, 'GET', '/api/state')).status, 200);
    assert.equal((await request(app.port, { path: `/api/config?token=${app.token}` })).status, 200);
    // The page needs it too; its scripts and styles hold no secret.
    const page = await request(app.port, { path: '/' });
    assert.equal(page.status, 401);
    assert.match(page.body, /Token needed/);
    const ok = await request(app.port, { path: `/?token=${app.token}` });
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal((await request(app.port, { path: '/assets/app.js' })).status, 200);
    assert.equal((await request(app.port, { path: '/etc/passwd' })).status, 404);
    assert.equal((await request(app.port, { path: '/assets/../package.json' })).status, 404);
  });

  test('a Host that is not the app’s own address (DNS rebinding) → 403, whatever the token', async () => {
    for (const host of [`rebind.example:${app.port}`, `127.0.0.1:${app.port + 1}`, 'localhost']) {
      const reply = await request(app.port, {
        headers: { host, authorization: `Bearer ${app.token}` },
      });
      assert.equal(reply.status, 403, host);
      assert.equal(reply.json().error?.code, 'ERR_HOST');
    }
    const page = await request(app.port, {
      path: `/?token=${app.token}`,
      headers: { host: 'rebind.example' },
    });
    assert.equal(page.status, 403);
    assert.doesNotMatch(page.body, /<html/);
    for (const host of [`localhost:${app.port}`, `127.0.0.1:${app.port}`]) {
      const reply = await request(app.port, { headers: { host, authorization: `Bearer ${app.token}` } });
      assert.equal(reply.status, 200, host);
    }
  });

  test('an Origin of another site → 403 (a page elsewhere cannot start a run); the app’s own → 200', async () => {
    for (const origin of [
      'http://evil.example',
      `http://localhost:${app.port + 1}`,
      'null',
      `https://127.0.0.1:${app.port}`,
    ]) {
      const reply = await request(app.port, {
        method: 'POST',
        path: '/api/run',
        headers: { origin, authorization: `Bearer ${app.token}`, 'content-type': 'application/json' },
        body: '{"clients":1}',
      });
      assert.equal(reply.status, 403, origin);
      assert.equal(reply.json().error?.code, 'ERR_ORIGIN');
    }
    assert.equal((await api(app.port, app.token, 'GET', '/api/state')).json().status, 'idle', 'nothing ran');
    const own = await request(app.port, {
      headers: { origin: `http://127.0.0.1:${app.port}`, authorization: `Bearer ${app.token}` },
    });
    assert.equal(own.status, 200);
  });

  test('parameters out of range → 400 with the reason; no run starts', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ backlog: 1025 }, /backlog must be an integer from 0 to 1024, got 1025/],
      [{ backlog: -1 }, /backlog must be an integer from 0 to 1024/],
      [{ clients: 0 }, /clients must be an integer from 1 to 500, got 0/],
      [{ clients: 501 }, /clients must be an integer from 1 to 500/],
      [{ acceptsPerSecond: 'fast' }, /acceptsPerSecond must be an integer from 0 to 1000, got "fast"/],
      [{ acceptsPerSecond: 1001 }, /acceptsPerSecond must be an integer from 0 to 1000/],
      [{ arrivalPerSecond: 1.5 }, /arrivalPerSecond must be an integer/],
      [{ clientTimeoutS: 131 }, /clientTimeoutS must be an integer from 1 to 60/],
      [{ maxDurationS: 3600 }, /maxDurationS must be an integer from 2 to 300/],
      [{ colour: 'red' }, /parameters must be among backlog, .*got "colour"/],
    ];
    const why = namespaceUnavailable();
    if (why) cases.push([{ tcp_syncookies: 0 }, /tcp_syncookies must be left unset here.*needs root/]);
    else cases.push([{ somaxconn: 70000 }, /somaxconn must be an integer from 0 to 65535/]);
    for (const [body, reason] of cases) {
      const reply = await api(app.port, app.token, 'POST', '/api/run', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.json().error?.code, 'ERR_INVALID_OPTION');
      assert.match(reply.json().error?.message ?? '', reason);
    }
    const notJson = await request(app.port, {
      method: 'POST',
      path: '/api/run',
      headers: { authorization: `Bearer ${app.token}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(notJson.status, 415);
    const broken = await request(app.port, {
      method: 'POST',
      path: '/api/run',
      headers: { authorization: `Bearer ${app.token}`, 'content-type': 'application/json' },
      body: '{"backlog":',
    });
    assert.equal(broken.status, 400);
    const huge = await api(app.port, app.token, 'POST', '/api/run', { pad: 'x'.repeat(20_000) });
    assert.equal(huge.status, 413);
    assert.equal((await api(app.port, app.token, 'PUT', '/api/run', {})).status, 405);
    assert.equal((await api(app.port, app.token, 'GET', '/api/nothing')).status, 404);
    assert.equal((await api(app.port, app.token, 'PATCH', '/api/run', { acceptsPerSecond: 5 })).status, 409);
    assert.equal((await api(app.port, app.token, 'GET', '/api/state')).json().status, 'idle', 'nothing ran');
  });

  test('one run at a time: a second start → 409; stop, then a new run starts; bounded by its longest duration', async () => {
    const first = await api(app.port, app.token, 'POST', '/api/run', {
      backlog: 0,
      clients: 3,
      clientTimeoutS: 60,
      maxDurationS: 2,
    });
    assert.equal(first.status, 202);
    assert.equal(first.json().run, 1);
    const second = await api(app.port, app.token, 'POST', '/api/run', { clients: 1 });
    assert.equal(second.status, 409);
    assert.equal(second.json().error?.code, 'ERR_RUN_GOING');
    const bad = await api(app.port, app.token, 'PATCH', '/api/run', { acceptsPerSecond: -3 });
    assert.equal(bad.status, 400);
    // Not stopped by anyone: the run ends at its longest duration (2 s), not at the clients' 60 s.
    const ended = await waitForState(app.port, app.token, finished, 'the run to end at maxDurationS');
    assert.equal(ended.status, 'finished');
    assert.ok(ended.elapsedS < 60, `ended at ${ended.elapsedS} s`);
    assert.equal(ended.listener?.peakQueued, 1, 'backlog 0 held one');
    assert.deepEqual(
      ended.clients.map((c) => c.state),
      ['stopped', 'stopped', 'stopped'],
      'nobody was served or gave up: the run stopped them all',
    );
    const next = await api(app.port, app.token, 'POST', '/api/run', { clients: 2, clientTimeoutS: 60 });
    assert.equal(next.status, 202);
    await waitForState(app.port, app.token, (s) => s.status === 'running', 'the second run');
    const stopped = await api(app.port, app.token, 'DELETE', '/api/run');
    assert.equal(stopped.status, 200);
    assert.equal(stopped.json().status, 'stopped');
    assert.equal(stopped.json().run, 2);
  });
});

test('a client gives up at its own timeout, never the kernel’s', {
  skip: !linux && 'Linux only',
}, async () => {
  const app = await createPlaygroundApp({ port: 0 });
  try {
    await api(app.port, app.token, 'POST', '/api/run', { backlog: 0, clients: 2, clientTimeoutS: 1 });
    const done = await waitForState(app.port, app.token, finished, 'the run to end');
    assert.equal(done.status, 'finished');
    // backlog 0 holds one: it waited in the queue, the other in SYN retransmissions; both gave up at 1 s.
    assert.deepEqual(
      done.clients.map((c) => c.state),
      ['timed-out', 'timed-out'],
    );
    assert.ok(done.elapsedS < 60);
  } finally {
    await app.close();
  }
});

test('closing the app stops a run that goes on and removes what it made', {
  skip: !linux && 'Linux only',
}, async () => {
  const app = await createPlaygroundApp({ port: 0 });
  await api(app.port, app.token, 'POST', '/api/run', { backlog: 1, clients: 4, clientTimeoutS: 60 });
  const running = await waitForState(app.port, app.token, (s) => s.listener?.queued === 2, 'a full queue');
  await app.close();
  if (running.namespace) assert.equal(alive(running.namespace.pid), false, 'the namespace’s process is gone');
  await assert.rejects(request(app.port, {}), 'the app no longer listens');
});

test('the package exports the playground for scripts', async () => {
  const lib = (await import('daytime')) as Record<string, unknown>;
  for (const name of ['runPlayground', 'createPlaygroundApp', 'normalizePlaygroundParams', 'summarizeRun']) {
    assert.equal(typeof lib[name], 'function', name);
  }
});
