import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { test } from 'node:test';
import { parseTrustList, trustsAddress, trustsSockaddr } from '../../src/net/cidr.ts';

test('--proxy-from: IPv4 and IPv6 networks, single hosts, IPv4-mapped peers matched as IPv4', () => {
  const list = parseTrustList('10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::1');
  for (const [address, trusted] of [
    ['10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['::ffff:10.9.9.9', true],
    ['::ffff:11.0.0.1', false],
    ['2001:db8:1::5', true],
    ['2001:db9::5', false],
    ['::1', true],
    ['::2', false],
    ['fe80::1%eth0', false],
    ['not an address', false],
  ] as const)
    assert.equal(trustsAddress(list, address), trusted, address);
  assert.equal(list.text, '10.0.0.0/8,192.0.2.7,2001:db8::/32,::1');
});

test('a network given as IPv4-mapped IPv6 is an IPv4 network; /0 is everyone of that family; any is everyone', () => {
  const mapped = parseTrustList('::ffff:192.0.2.0/120');
  assert.equal(trustsAddress(mapped, '192.0.2.99'), true);
  assert.equal(trustsAddress(mapped, '192.0.3.1'), false);
  const all4 = parseTrustList('0.0.0.0/0');
  assert.equal(trustsAddress(all4, '203.0.113.5'), true);
  assert.equal(trustsAddress(all4, '2001:db8::1'), false);
  const any = parseTrustList('any');
  assert.equal(any.any, true);
  assert.equal(trustsAddress(any, '2001:db8::1'), true);
});

// The family is in the host's byte order, the port and address in network order.
const LE = endianness() === 'LE';

test('the address as accept4 writes it (struct sockaddr_in / sockaddr_in6) is matched without a string', () => {
  const list = parseTrustList('10.77.0.0/16,2001:db8::/48');
  const in4 = new DataView(new ArrayBuffer(28));
  in4.setUint16(0, 2, LE);
  in4.setUint8(4, 10);
  in4.setUint8(5, 77);
  in4.setUint8(6, 3);
  in4.setUint8(7, 4);
  assert.equal(trustsSockaddr(list, in4), true);
  in4.setUint8(5, 78);
  assert.equal(trustsSockaddr(list, in4), false);
  const in6 = new DataView(new ArrayBuffer(28));
  in6.setUint16(0, 10, LE);
  in6.setUint32(8, 0x20010db8, false);
  in6.setUint32(12, 0x00000001, false);
  assert.equal(trustsSockaddr(list, in6), true);
  in6.setUint32(12, 0x00010001, false);
  assert.equal(trustsSockaddr(list, in6), false);
  // ::ffff:10.77.9.9, a dual-stack listener's IPv4 client
  in6.setUint32(8, 0, false);
  in6.setUint32(12, 0, false);
  in6.setUint32(16, 0xffff, false);
  in6.setUint32(20, (10 << 24) | (77 << 16) | (9 << 8) | 9, false);
  assert.equal(trustsSockaddr(list, in6), true);
});

test('anything else is bad input, naming the item', () => {
  for (const text of [
    '',
    '10.0.0.0/33',
    '10.0.0/8',
    '2001:db8::/129',
    'fe80::1%eth0',
    'example.com',
    '10.0.0.0/8/9',
    '10.0.0.0/08x',
    'any,10.0.0.0/8',
  ])
    assert.throws(() => parseTrustList(text), { code: 'ERR_INVALID_OPTION' }, text);
});
