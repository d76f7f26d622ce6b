import assert from 'node:assert/strict';
import { test } from 'node:test';

// The published entry point (dist/, built by `npm ci`'s prepare), imported by the package's own name
// as a script would: the core works without the CLI.
test('the package exports the core: serve, query, bench, watch and lab from a script', async () => {
  const lib = await import('daytime');
  for (const name of [
    'createDaytimeServer',
    'queryDaytime',
    'queryTime',
    'runBench',
    'watchQueue',
    'runLab',
  ]) {
    assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
  }
  const server = lib.createDaytimeServer({ host: '127.0.0.1', port: 0 });
  const [listener] = await server.listen();
  const reply = await lib.queryDaytime({ host: '127.0.0.1', port: listener?.port ?? 0 });
  assert.match(reply.line, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  const bench = await lib.runBench({ host: '127.0.0.1', port: listener?.port ?? 0, count: 100 });
  assert.equal(bench.ok, 100);
  await server.close();
  assert.equal(server.stats().served, 101);
});
