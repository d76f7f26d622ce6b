import assert from 'node:assert/strict';
import { test } from 'node:test';
import { environmentOptions } from '../../src/cli/environment.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { SERVE_OPTIONS } from '../../src/options/serve.ts';
import { ROOT, runBin } from '../helpers/cli.ts';
import { startCliServer } from '../helpers/cli-server.ts';
import { rawQuery } from '../helpers/raw-client.ts';

const fromEnv = (env: NodeJS.ProcessEnv, given: Record<string, unknown> = {}) =>
  environmentOptions(SERVE_OPTIONS, env, given);

test('DAYTIME_<OPTION> gives what the flag would, and a flag wins over it', () => {
  assert.deepEqual(
    fromEnv({ DAYTIME_PORT: '1313', DAYTIME_MAX_CONNECTIONS: '1000', DAYTIME_UDP_IO: 'dgram' }),
    {
      port: '1313',
      maxConnections: '1000',
      udpIo: 'dgram',
    },
  );
  assert.deepEqual(fromEnv({ DAYTIME_PORT: '1313', DAYTIME_FORMAT: 'iso' }, { port: '0' }), {
    format: 'iso',
  });
  assert.deepEqual(fromEnv({ DAYTIME_HOST: '127.0.0.1, ::1' }), { host: ['127.0.0.1', '::1'] });
  // An empty variable is unset; one that names no option (HAProxy's DAYTIME_HOST1) is not ours.
  assert.deepEqual(fromEnv({ DAYTIME_PORT: '', DAYTIME_HOST1: '10.0.0.1', DAYTIME_BIND: 'x' }), {});
});

test('a switch takes 1/true/yes/on, 0/false/no/off is as if not given, anything else is refused naming it', () => {
  for (const word of ['1', 'true', 'YES', 'on'])
    assert.deepEqual(fromEnv({ DAYTIME_UDP: word }), { udp: true });
  for (const word of ['0', 'false', 'no', 'Off']) assert.deepEqual(fromEnv({ DAYTIME_UDP: word }), {});
  assert.throws(
    () => fromEnv({ DAYTIME_QUIET: 'maybe' }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError);
      assert.equal(error.option, 'DAYTIME_QUIET');
      assert.match(
        error.message,
        /^DAYTIME_QUIET must be one of 1, true, yes, on, 0, false, no, off, got "maybe"$/,
      );
      return true;
    },
  );
  // --inetd [service]: a service, or a switch's word for the flag alone.
  assert.deepEqual(fromEnv({ DAYTIME_INETD: 'time' }), { inetd: 'time' });
  assert.deepEqual(fromEnv({ DAYTIME_INETD: 'yes' }), { inetd: true });
  assert.deepEqual(fromEnv({ DAYTIME_INETD: 'off' }), {});
});

test('serve configured by the environment; a flag given wins, its variable is not even read', async () => {
  const server = await startCliServer(
    ['--backlog', '7'],
    undefined,
    [`${ROOT}node_modules/.bin/node`, `${ROOT}dist/cli.js`],
    {
      DAYTIME_HOST: '127.0.0.1',
      DAYTIME_PORT: '0',
      DAYTIME_FORMAT: 'iso',
      DAYTIME_BACKLOG: 'bogus',
      DAYTIME_QUIET: '1',
    },
  );
  try {
    const reply = (await rawQuery(server.port)).data.toString('latin1');
    assert.match(reply, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\r\n$/, 'DAYTIME_FORMAT=iso');
    const listening = server.logs.find((l) => l.transport === 'tcp' && l.backlog !== undefined);
    assert.equal(listening?.address, '127.0.0.1', 'DAYTIME_HOST');
    assert.equal(listening?.backlog, 7, '--backlog 7 over DAYTIME_BACKLOG=bogus');
  } finally {
    await server.stop();
  }
});

test('a bad variable is bad input naming it: exit 2, one line, nothing bound', async () => {
  const base = { DAYTIME_HOST: '127.0.0.1', DAYTIME_PORT: '0' };
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [
      { DAYTIME_MAX_CONNECTIONS: 'x' },
      /^DAYTIME_MAX_CONNECTIONS must be an integer from 1 to 10000000, got "x"$/,
    ],
    [{ DAYTIME_UDP: 'maybe' }, /^DAYTIME_UDP must be one of 1, true/],
    [{ DAYTIME_UDP_RATE: '5' }, /^DAYTIME_UDP_RATE needs --udp: /],
    [{ DAYTIME_UDP: '1', DAYTIME_UDP_RATE: '0' }, /^DAYTIME_UDP_RATE must be an integer from 1/],
    [{ DAYTIME_METRICS: 'localhost:99999' }, /^DAYTIME_METRICS port must be a port number from 1 to 65535/],
    [{ DAYTIME_PROXY_PROTOCOL: 'on' }, /^DAYTIME_PROXY_PROTOCOL needs --proxy-from: /],
    [{ DAYTIME_INETD: 'time' }, /^DAYTIME_INETD and DAYTIME_HOST cannot be used together: inetd hands over/],
  ];
  const results = await Promise.all(cases.map(([env]) => runBin(['serve'], { env: { ...base, ...env } })));
  results.forEach((r, i) => {
    const [env, pattern] = cases[i] ?? [{}, /./];
    const label = JSON.stringify(env);
    assert.equal(r.code, 2, `${label}: ${r.stderr}`);
    assert.equal(r.stdout, '', label);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${label}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd().replace(/^daytime serve: /, ''), pattern, label);
  });
});
