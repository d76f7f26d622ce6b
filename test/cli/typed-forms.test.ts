import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientTarget, watchTarget } from '../../src/cli/target.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { normalizeServeOptions } from '../../src/index.ts';
import { ROOT, runBin } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { scrape } from '../helpers/metrics.ts';
import { freePort } from '../helpers/ports.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';

// The forms people type (issue 27): nc's HOST PORT for get and bench, :PORT and HOST:PORT for watch,
// a port alone for --metrics as Prometheus exporters take it.
const NODE_CLI = [`${ROOT}node_modules/.bin/node`, `${ROOT}dist/cli.js`];
const defaults = { host: 'localhost', port: 9999 };
const refused = (fn: () => unknown) => assert.throws(fn, InvalidOptionError);

test('get and bench: HOST PORT as two arguments, as nc takes them', () => {
  assert.deepEqual(clientTarget('localhost', '13', defaults), { host: 'localhost', port: 13 });
  assert.deepEqual(clientTarget('[::1]', '3737', defaults), { host: '::1', port: 3737 });
  assert.deepEqual(clientTarget('::1', '3737', defaults), { host: '::1', port: 3737 });
  assert.deepEqual(clientTarget('localhost:13', undefined, defaults), { host: 'localhost', port: 13 });
  refused(() => clientTarget('localhost:13', '9999', defaults));
  refused(() => clientTarget(':13', '9999', defaults));
  refused(() => clientTarget('localhost', '70000', defaults));
  refused(() => clientTarget('9464', '13', defaults));
});

test('watch: PORT, :PORT and HOST:PORT; a host without a port is refused', () => {
  assert.deepEqual(watchTarget('9999'), { host: undefined, port: 9999 });
  assert.deepEqual(watchTarget(':9999'), { host: undefined, port: 9999 });
  assert.deepEqual(watchTarget('127.0.0.1:9999'), { host: '127.0.0.1', port: 9999 });
  assert.deepEqual(watchTarget('[::1]:9999'), { host: '::1', port: 9999 });
  for (const text of ['127.0.0.1', '[::1]', '127.0.0.1:', ':0', 'host:70000'])
    refused(() => watchTarget(text));
});

test('--metrics: a port alone or :PORT is every interface; HOST:PORT as before; a host alone refused', () => {
  const metrics = (value: string, extra = {}) => normalizeServeOptions({ metrics: value, ...extra }).metrics;
  assert.deepEqual(metrics('9464'), { host: '', port: 9464 });
  assert.deepEqual(metrics(':9464'), { host: '', port: 9464 });
  assert.deepEqual(metrics('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(metrics('[::1]:9464'), { host: '::1', port: 9464 });
  for (const bad of ['127.0.0.1', 'localhost', '0', ':', '99999']) refused(() => metrics(bad));
  // Every interface takes the service's own port on every address too.
  refused(() => metrics('9999', { port: 9999, host: '127.0.0.1' }));
});

test('serve --metrics PORT and :PORT serve on every interface; the ready line names the address', async () => {
  for (const form of ['PORT', ':PORT']) {
    const port = await freePort();
    const server = await startCliServer(
      ['--host', '127.0.0.1', '--port', '0', '--quiet', '--metrics', form.replace('PORT', String(port))],
      undefined,
      NODE_CLI,
    );
    try {
      const ready = server.logs.find((l) => l.ready);
      assert.match(
        String(ready?.metrics),
        new RegExp(`^http://(\\[::\\]|0\\.0\\.0\\.0):${port}/metrics$`),
        form,
      );
      assert.match(await scrape(port), /^daytime_build_info\{/m, form);
    } finally {
      await server.stop();
    }
  }
});

test('get HOST PORT, and watch :PORT and HOST:PORT against a real server', async () => {
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--quiet'], undefined, NODE_CLI);
  try {
    const get = await runBin(['get', '127.0.0.1', String(server.port)]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(`${get.stdout.trimEnd()}\r\n`, CTIME_LINE);
    const watch = async (target: string) => {
      const r = await runBin(['watch', target, '--json', '--count', '1']);
      assert.equal(r.code, 0, `${target}: ${r.stderr}`);
      return JSON.parse(r.stdout) as { host?: string; port: number; tcp: { local: string }[] };
    };
    const all = await watch(`:${server.port}`);
    assert.deepEqual(
      all.tcp.map((l) => l.local),
      [`127.0.0.1:${server.port}`],
    );
    const here = await watch(`127.0.0.1:${server.port}`);
    assert.equal(here.host, '127.0.0.1');
    assert.deepEqual(
      here.tcp.map((l) => l.local),
      [`127.0.0.1:${server.port}`],
    );
    // Bound to 127.0.0.1 alone, the listener takes nothing sent to 127.0.0.2.
    assert.deepEqual((await watch(`127.0.0.2:${server.port}`)).tcp, []);
  } finally {
    await server.stop();
  }
});
