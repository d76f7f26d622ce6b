import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { test } from 'node:test';
import { ipv6Groups } from '../../src/net/address.ts';
import { ReplyLimiter } from '../../src/udp/rate-limit.ts';
import { addressKey, sockaddrKey } from '../../src/udp/source-key.ts';

const LE = endianness() === 'LE';

// struct sockaddr_in / sockaddr_in6 as the kernel writes them: family in host order, the rest in network order.
function sockaddr(address: string): DataView {
  const view = new DataView(new ArrayBuffer(28));
  if (!address.includes(':')) {
    view.setUint16(0, 2, LE);
    for (const [i, octet] of address.split('.').entries()) view.setUint8(4 + i, Number(octet));
    return view;
  }
  view.setUint16(0, 10, LE);
  for (const [i, group] of ipv6Groups(address).entries()) view.setUint16(8 + 2 * i, group);
  return view;
}

test('a source has one key whether it comes as a sockaddr (mmsg) or as text (dgram)', () => {
  for (const address of ['127.0.0.1', '203.0.113.255', '::1', '2001:db8::1:0:0:7', 'fe80::1']) {
    assert.equal(sockaddrKey(sockaddr(address), 0), addressKey(address), address);
  }
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6: the same source as plain IPv4.
  assert.equal(sockaddrKey(sockaddr('::ffff:192.0.2.7'), 0), addressKey('192.0.2.7'));
  assert.equal(addressKey('::ffff:192.0.2.7'), addressKey('192.0.2.7'));
  assert.equal(addressKey('192.0.2.7'), 0xc0000207);
  // Different sources, different keys; the IPv6 key is not a mapped IPv4 one.
  assert.notEqual(addressKey('::1'), addressKey('::2'));
  assert.notEqual(addressKey('::c000:207'), addressKey('192.0.2.7'));
});

test('ipv6Groups reads compressed, full, zoned and IPv4-tailed forms', () => {
  assert.deepEqual(ipv6Groups('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Groups('2001:db8:0:0:1:0:0:2'), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 2]);
  assert.deepEqual(ipv6Groups('fe80::1%eth0'), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Groups('::ffff:192.0.2.1'), [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201]);
});

test('the limiter keys sources by number as by text: one bucket per source either way', () => {
  const limiter = new ReplyLimiter({ perSource: 1, global: 1000 }, 0);
  const key = addressKey('192.0.2.1');
  assert.equal(limiter.check(key, 0), undefined);
  assert.equal(limiter.check(addressKey('::ffff:192.0.2.1'), 0), undefined);
  assert.equal(limiter.check(key, 0), 'source_rate', 'burst of 2 spent by the two forms of one address');
  assert.equal(limiter.check(addressKey('192.0.2.2'), 0), undefined);
  assert.equal(limiter.trackedSources, 2);
});
