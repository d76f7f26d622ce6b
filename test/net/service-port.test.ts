import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseTarget, portOption } from '../../src/index.ts';
import { parseServices } from '../../src/net/service-port.ts';

// A services file in /etc/services' format, so the test does not depend on the machine's.
const dir = mkdtempSync(join(tmpdir(), 'daytime-services-'));
const servicesFile = join(dir, 'services');
writeFileSync(
  servicesFile,
  [
    '# Network services, Internet style',
    'daytime\t\t13/tcp',
    'daytime\t\t13/udp',
    'time\t\t37/tcp\t\ttimserver',
    'time\t\t37/udp\t\ttimserver',
    'syslog\t\t514/udp',
    'tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer',
    'broken\t\tnot-a-port',
    '',
  ].join('\n'),
);
after(() => rmSync(dir, { recursive: true, force: true }));
const options = { servicesFile };

test('a port is a number (passed through, range-checked) or a service name', () => {
  assert.equal(portOption('port', '9999', options), 9999);
  assert.equal(portOption('port', 13, options), 13);
  assert.equal(portOption('port', 'daytime', options), 13);
  assert.equal(portOption('port', 'timserver', options), 37, 'an alias');
  assert.equal(portOption('port', 'syslog', options), 514, 'only a UDP entry: taken for TCP too');
  assert.equal(portOption('port', 'syslog', { ...options, protocol: 'udp' }), 514);
  assert.equal(portOption('port', '0', { ...options, min: 0 }), 0);
  for (const bad of ['0', '65536', '-1', '1.5', 'no-such-service', 'broken', '', ' ', 'day time']) {
    assert.throws(() => portOption('port', bad, options), { code: 'ERR_INVALID_OPTION' }, bad);
  }
  assert.throws(() => portOption('port', 'nope', options), /\/services has no such service/);
});

test('without a services file a name is refused with the reason; numbers still work', () => {
  const missing = { servicesFile: join(dir, 'missing') };
  assert.equal(portOption('port', '13', missing), 13);
  assert.throws(() => portOption('port', 'daytime', missing), /cannot be read here: give a number/);
});

test('the services file: first entry wins, comments and junk skipped', () => {
  const table = parseServices('a 1/tcp\na 2/tcp\nb 3/udp x y # c\n# d 4/tcp\ne 70000/tcp\n');
  assert.equal(table.get('a')?.get('tcp'), 1);
  assert.equal(table.get('y')?.get('udp'), 3);
  assert.equal(table.has('d'), false);
  assert.equal(table.has('e'), false);
});

test('targets: HOST:SERVICE, and malformed targets are bad input, not a failed lookup', () => {
  const d = { host: 'localhost', port: 9999 };
  assert.deepEqual(parseTarget('127.0.0.1:daytime', d, 'target', options), { host: '127.0.0.1', port: 13 });
  assert.deepEqual(parseTarget('[::1]:time', d, 'target', options), { host: '::1', port: 37 });
  assert.deepEqual(parseTarget('fe80::1%eth0', d), { host: 'fe80::1%eth0', port: 9999 });
  for (const bad of [
    '[::1',
    '[::1]:',
    '[host]:13',
    'a:b:c',
    '9464',
    'host:',
    ':',
    'two words',
    '',
    'bü.de',
  ]) {
    assert.throws(() => parseTarget(bad, d, 'target', options), { code: 'ERR_INVALID_OPTION' }, bad);
  }
});
