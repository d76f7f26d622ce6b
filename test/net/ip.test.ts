import assert from 'node:assert/strict';
import net from 'node:net';
import { endianness } from 'node:os';
import { test } from 'node:test';
import {
  formatIPv4,
  formatIPv6,
  isMappedIPv4,
  parseIPv4,
  parseIPv6,
  readIPv6,
  readSockaddr,
  SOCKADDR_IN,
  SOCKADDR_IN6,
  unmapIPv4,
  withoutZone,
  writeIP,
  writeSockaddr,
} from '../../src/net/ip.ts';

const LE = endianness() === 'LE';
// The family field as the kernel writes it: two bytes in host order.
const family = (value: number) => (LE ? [value, 0] : [0, value]);
const bytes = (view: DataView, length: number) => [...new Uint8Array(view.buffer, view.byteOffset, length)];

test('IPv4 text: four decimal octets and nothing else, as net.isIPv4 (and inet_pton) take them', () => {
  assert.equal(parseIPv4('0.0.0.0'), 0);
  assert.equal(parseIPv4('127.0.0.1'), 0x7f000001);
  assert.equal(parseIPv4('192.0.2.7'), 0xc0000207);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  for (const text of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.256',
    '01.2.3.4',
    '1.2.3.04',
    '1..3.4',
    '.1.2.3',
    '1.2.3.4.',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '0x1.2.3.4',
    '::1',
    '1.2.3.-4',
  ]) {
    assert.equal(parseIPv4(text), undefined, text);
    assert.equal(net.isIPv4(text), false, `net.isIPv4 agrees on ${JSON.stringify(text)}`);
  }
  assert.equal(formatIPv4(0xc0000207), '192.0.2.7');
  assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
});

test('IPv6 text: compressed, full and IPv4-tailed forms; a zone id is refused unless taken off', () => {
  assert.deepEqual(parseIPv6('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseIPv6('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(parseIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseIPv6('2001:db8:0:0:1:0:0:2'), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 2]);
  assert.deepEqual(parseIPv6('2001:DB8::1:0:0:7'), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 7]);
  assert.deepEqual(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  assert.deepEqual(parseIPv6('::192.0.2.1'), [0, 0, 0, 0, 0, 0, 0xc000, 0x201]);
  assert.deepEqual(parseIPv6('1:2:3:4:5:6:7.8.9.10'), [1, 2, 3, 4, 5, 6, 0x708, 0x90a]);
  assert.equal(parseIPv6('fe80::1%eth0'), undefined);
  assert.deepEqual(parseIPv6(withoutZone('fe80::1%eth0')), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  for (const text of ['', ':', ':::', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', '::1.2.3', '1.2.3.4'])
    assert.equal(parseIPv6(text), undefined, text);
});

test('IPv6 text: the parser takes exactly what net.isIPv6 takes (zone ids aside)', () => {
  // Strings of hex digits, colons and dots (xorshift32 from a fixed seed): about one in thirty is an
  // address.
  let seed = 867;
  const next = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return Math.floor(((seed >>> 0) / 2 ** 32) * n);
  };
  const alphabet = '0123456789abcdefABCDEF::::::::....';
  let valid = 0;
  for (let k = 0; k < 50_000; k++) {
    let text = '';
    for (let i = 2 + next(16); i > 0; i--) text += alphabet[next(alphabet.length)];
    if (next(4) === 0) text += `${next(256)}.${next(300)}.${next(256)}.${next(256)}`;
    if (net.isIPv6(text)) valid++;
    assert.equal(parseIPv6(text) !== undefined, net.isIPv6(text), text);
  }
  assert.ok(valid > 500, `${valid} addresses among the strings`);
  for (const text of ['1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1:2:3:4:5::1.2.3.4', '0000::'])
    assert.ok(parseIPv6(text), text);
  for (const text of [
    '1:2:3:4:5:6:7:8::',
    '1::2:3:4:5:6:7:8',
    '1:2:3:4:5:6::1.2.3.4',
    '00000::',
    '::1.2.3.4:5',
  ])
    assert.equal(parseIPv6(text), undefined, text);
});

test('IPv6 to text as inet_ntop writes it: the longest zero run as ::, mapped and compatible IPv4 dotted', () => {
  const text = (address: string, dotted?: boolean) => formatIPv6(parseIPv6(address) ?? [], dotted);
  assert.equal(text('0:0:0:0:0:0:0:0'), '::');
  assert.equal(text('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(text('0:0:0:0:0:0:0:2'), '::2');
  assert.equal(text('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
  assert.equal(text('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(text('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  assert.equal(text('fe80:0:0:0:0:0:0:0'), 'fe80::');
  assert.equal(text('::ffff:1.2.3.4'), '::ffff:1.2.3.4');
  assert.equal(text('::ffff:0.0.0.0'), '::ffff:0.0.0.0');
  assert.equal(text('::1.2.3.4'), '::1.2.3.4');
  // Hex throughout where asked (the PROXY v2 decoder has always reported mapped addresses so).
  assert.equal(text('::ffff:1.2.3.4', false), '::ffff:102:304');
  assert.equal(text('::1.2.3.4', false), '::102:304');
  assert.equal(unmapIPv4('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(unmapIPv4('::ffff:c000:201'), '::ffff:c000:201');
  assert.equal(unmapIPv4('2001:db8::1'), '2001:db8::1');
});

test('text to bytes and back is the same text, for the canonical forms', () => {
  const view = new DataView(new ArrayBuffer(16));
  for (const address of ['0.0.0.0', '10.1.2.3', '203.0.113.255']) {
    assert.equal(writeIP(view, 0, address), 4);
    assert.equal(formatIPv4(view.getUint32(0)), address);
  }
  for (const address of [
    '::',
    '::1',
    '::ffff:192.0.2.1',
    '2001:db8::1:0:0:7',
    'fe80::1',
    '1:2:3:4:5:6:7:8',
  ]) {
    assert.equal(writeIP(view, 0, address), 6);
    assert.equal(formatIPv6(readIPv6(view, 0)), address);
  }
  assert.equal(writeIP(view, 0, 'fe80::1%eth0'), 0);
  assert.equal(writeIP(view, 0, 'example.com'), 0);
  writeIP(view, 0, '::ffff:10.0.0.1');
  assert.equal(isMappedIPv4(view, 0), true);
  writeIP(view, 0, '::10.0.0.1');
  assert.equal(isMappedIPv4(view, 0), false);
  writeIP(view, 0, '::1:ffff:10.0.0.1');
  assert.equal(isMappedIPv4(view, 0), false);
});

test('sockaddr_in and sockaddr_in6: the family in host order, the port and address in network order', () => {
  const view = new DataView(new ArrayBuffer(SOCKADDR_IN6 + 4));
  new Uint8Array(view.buffer).fill(0xee);
  assert.equal(writeSockaddr(view, 2, '192.0.2.1', 13), SOCKADDR_IN);
  assert.deepEqual(bytes(new DataView(view.buffer, 2), SOCKADDR_IN), [
    ...family(2),
    0,
    13,
    192,
    0,
    2,
    1,
    ...Array(8).fill(0),
  ]);
  assert.deepEqual(readSockaddr(view, 2), { address: '192.0.2.1', port: 13 });

  assert.equal(writeSockaddr(view, 2, '2001:db8::7', 0x1234), SOCKADDR_IN6);
  assert.deepEqual(bytes(new DataView(view.buffer, 2), SOCKADDR_IN6), [
    ...family(10),
    0x12,
    0x34,
    ...[0, 0, 0, 0],
    ...[0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 7],
    ...[0, 0, 0, 0],
  ]);
  assert.deepEqual(readSockaddr(view, 2), { address: '2001:db8::7', port: 0x1234 });
  // A dual-stack listener's IPv4 peer stays as the kernel wrote it.
  writeSockaddr(view, 0, '::ffff:127.0.0.1', 40000);
  assert.deepEqual(readSockaddr(view, 0), { address: '::ffff:127.0.0.1', port: 40000 });

  assert.equal(writeSockaddr(view, 0, 'localhost', 13), 0);
  assert.equal(writeSockaddr(view, 0, 'fe80::1%eth0', 13), 0);
  view.setUint16(0, LE ? 1 : 0x100); // AF_UNIX
  assert.equal(readSockaddr(view, 0), undefined);
});
