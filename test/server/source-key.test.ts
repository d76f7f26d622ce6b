import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SOCKADDR_IN6, writeSockaddr } from '../../src/net/ip.ts';
import { ReplyLimiter } from '../../src/udp/rate-limit.ts';
import { addressKey, sockaddrKey } from '../../src/udp/source-key.ts';

// struct sockaddr_in / sockaddr_in6 as the kernel writes them (their layout: test/net/ip.test.ts).
function sockaddr(address: string): DataView {
  const view = new DataView(new ArrayBuffer(SOCKADDR_IN6));
  assert.ok(writeSockaddr(view, 0, address, 9), address);
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

test('a link-local source keeps its key whatever interface Node names with it', () => {
  assert.equal(addressKey('fe80::1%eth0'), addressKey('fe80::1'));
  assert.equal(sockaddrKey(sockaddr('fe80::1'), 0), addressKey('fe80::1%eth0'));
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
