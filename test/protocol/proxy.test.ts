import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  V1_MAX_LENGTH,
  V2_SIGNATURE,
} from '../../src/protocol/proxy.ts';

const client = { address: '10.77.1.2', port: 40000 };
const server = { address: '10.77.2.1', port: 9999 };

test('v1 TCP4, TCP6 and UNKNOWN, whole and byte by byte', () => {
  const cases = [
    ['PROXY TCP4 10.77.1.2 10.77.2.1 40000 9999\r\n', { command: 'PROXY', source: client }],
    [
      'PROXY TCP6 2001:db8::1 ::1 65535 0\r\n',
      { command: 'PROXY', source: { address: '2001:db8::1', port: 65535 } },
    ],
    ['PROXY UNKNOWN\r\n', { command: 'LOCAL', source: undefined }],
    [
      'PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n',
      { command: 'LOCAL', source: undefined },
    ],
  ] as const;
  for (const [text, expected] of cases) {
    const bytes = Buffer.from(
      `${text}daytime clients send nothing, but a line here is the client's`,
      'latin1',
    );
    const whole = parseProxyHeader(bytes);
    assert.equal(whole.status, 'done', text);
    if (whole.status !== 'done') continue;
    assert.equal(whole.header.version, 1);
    assert.equal(whole.header.command, expected.command);
    assert.deepEqual(whole.header.source, expected.source);
    assert.equal(whole.header.length, text.length);
    for (let n = 0; n < text.length; n++)
      assert.equal(parseProxyHeader(bytes.subarray(0, n)).status, 'incomplete');
  }
});

test('v1 that is not a header: a wrong family, bad addresses, bad ports, too long', () => {
  for (const text of [
    'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n',
    'PROXY TCP4 ::1 ::1 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n',
  ]) {
    assert.equal(parseProxyHeader(Buffer.from(text, 'latin1')).status, 'invalid', text);
  }
  const endless = Buffer.from(`PROXY TCP4 ${'9'.repeat(V1_MAX_LENGTH)}`, 'latin1');
  assert.deepEqual(parseProxyHeader(endless), {
    status: 'invalid',
    reason: 'v1 header longer than 107 bytes',
  });
  assert.equal(parseProxyHeader(Buffer.from('GET / HTTP/1.0\r\n')).status, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('PROX')).status, 'incomplete');
});

test('v2 PROXY over IPv4 and IPv6, LOCAL, TLVs skipped, byte by byte', () => {
  const v4 = encodeProxyV2(client, server);
  const v6 = encodeProxyV2({ address: '2001:db8:0:0:1::2', port: 1 }, { address: '::1', port: 13 });
  const local = encodeProxyV2();
  const withTlv = Buffer.from(v4);
  // A TLV (type 0x04, NOOP, 3 bytes) after the addresses: the length covers it and it is skipped.
  const tlv = Buffer.from([0x04, 0x00, 0x03, 1, 2, 3]);
  const tlvHeader = Buffer.concat([withTlv, tlv]);
  tlvHeader.writeUInt16BE(12 + tlv.length, 14);
  const cases = [
    [v4, 'PROXY', client],
    [v6, 'PROXY', { address: '2001:db8::1:0:0:2', port: 1 }],
    [local, 'LOCAL', undefined],
    [tlvHeader, 'PROXY', client],
  ] as const;
  for (const [bytes, command, source] of cases) {
    const parsed = parseProxyHeader(Buffer.concat([bytes, Buffer.from('rest')]));
    assert.equal(parsed.status, 'done');
    if (parsed.status !== 'done') continue;
    assert.equal(parsed.header.version, 2);
    assert.equal(parsed.header.command, command);
    assert.deepEqual(parsed.header.source, source);
    assert.equal(parsed.header.length, bytes.length);
    for (let n = 0; n < bytes.length; n++)
      assert.equal(parseProxyHeader(bytes.subarray(0, n)).status, 'incomplete');
  }
  const ipv6 = parseProxyHeader(v6);
  assert.equal(ipv6.status === 'done' && ipv6.header.destination?.address, '::1');
});

// Hostile and edge-case headers, each with what doc/proxy-protocol.txt demands of a receiver.
const v1 = (text: string) => Buffer.from(text, 'latin1');
const v2 = (versionCommand: number, family: number, block: number[] | Buffer = []) => {
  const bytes = Buffer.from(block);
  const head = Buffer.from([versionCommand, family, 0, 0]);
  head.writeUInt16BE(bytes.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, bytes]);
};
const v4Block = [10, 77, 1, 2, 10, 77, 2, 1, 0x9c, 0x40, 0x27, 0x0f];
const tlv = (type: number, value: number[]) => [type, value.length >> 8, value.length & 0xff, ...value];

const HEADERS: [string, Buffer, 'done PROXY' | 'done LOCAL' | 'direct' | 'invalid' | 'incomplete'][] = [
  ['v1 TCP4', v1('PROXY TCP4 10.77.1.2 10.77.2.1 40000 9999\r\n'), 'done PROXY'],
  ['v1 TCP6, upper-case hex', v1('PROXY TCP6 2001:DB8::1 ::1 1 2\r\n'), 'done PROXY'],
  [
    'v1 TCP6, an IPv4-mapped address as inet_ntop writes it',
    v1('PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n'),
    'done PROXY',
  ],
  ['v1 UNKNOWN, short', v1('PROXY UNKNOWN\r\n'), 'done LOCAL'],
  ['v1 UNKNOWN, the rest ignored', v1('PROXY UNKNOWN whatever 1 2\r\n'), 'done LOCAL'],
  ['v1 TCP6 with a zone id', v1('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'), 'invalid'],
  ['v1 IPv4 with a heading zero', v1('PROXY TCP4 010.1.1.1 10.1.1.1 1 2\r\n'), 'invalid'],
  ['v1 IPv4 octet over 255', v1('PROXY TCP4 256.1.1.1 10.1.1.1 1 2\r\n'), 'invalid'],
  ['v1 IPv6 of nine groups', v1('PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'), 'invalid'],
  ['v1 TCP4 family with IPv6 addresses', v1('PROXY TCP4 ::1 ::1 1 2\r\n'), 'invalid'],
  ['v1 TCP6 family with IPv4 addresses', v1('PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n'), 'invalid'],
  ['v1 lower-case family', v1('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'), 'invalid'],
  ['v1 UDP4', v1('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'invalid'],
  ['v1 two spaces', v1('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), 'invalid'],
  ['v1 a trailing space', v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'), 'invalid'],
  ['v1 port 65536', v1('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'invalid'],
  ['v1 port with a heading zero', v1('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), 'invalid'],
  ['v1 negative port', v1('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'), 'invalid'],
  ['v1 a port missing', v1('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'invalid'],
  ['v1 ended by LF alone', v1('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'invalid'],
  ['v1 a CR inside', v1('PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n'), 'invalid'],
  ['v1 no CRLF in 107 bytes', v1(`PROXY UNKNOWN ${'f'.repeat(100)}`), 'invalid'],
  ['v1 a line of 108 bytes', v1(`PROXY UNKNOWN ${'f'.repeat(92)}\r\n`), 'invalid'],
  ['v1 not yet whole', v1('PROXY TCP4 1.2.3.4 5.6'), 'incomplete'],
  ['not a header: HTTP', v1('GET / HTTP/1.0\r\n'), 'invalid'],
  ['not a header: PROXY without a family', v1('PROXY\r\n'), 'invalid'],
  ['v2 PROXY TCP4', v2(0x21, 0x11, v4Block), 'done PROXY'],
  [
    'v2 PROXY TCP4 with NOOP and ALPN TLVs',
    v2(0x21, 0x11, [...v4Block, ...tlv(0x04, [1, 2]), ...tlv(0x01, [0x68, 0x32])]),
    'done PROXY',
  ],
  ['v2 LOCAL, no addresses', v2(0x20, 0x00), 'done LOCAL'],
  ['v2 LOCAL with addresses: the block is skipped', v2(0x20, 0x11, v4Block), 'done LOCAL'],
  ['v2 PROXY UNSPEC: the real endpoints', v2(0x21, 0x00), 'direct'],
  ['v2 PROXY UDP over IPv4: the real endpoints', v2(0x21, 0x12, v4Block), 'direct'],
  ['v2 PROXY UNIX stream: the real endpoints', v2(0x21, 0x31, Buffer.alloc(216)), 'direct'],
  ['v2 version 1', v2(0x11, 0x11, v4Block), 'invalid'],
  ['v2 command 2', v2(0x22, 0x11, v4Block), 'invalid'],
  ['v2 command 15', v2(0x2f, 0x11, v4Block), 'invalid'],
  ['v2 family 4 (0x41)', v2(0x21, 0x41, v4Block), 'invalid'],
  ['v2 transport 3 (0x13)', v2(0x21, 0x13, v4Block), 'invalid'],
  ['v2 INET with no transport (0x10)', v2(0x21, 0x10, v4Block), 'invalid'],
  ['v2 LOCAL with an undefined family (0x41)', v2(0x20, 0x41), 'invalid'],
  ['v2 TCP4 with 4 bytes of addresses', v2(0x21, 0x11, [1, 2, 3, 4]), 'invalid'],
  ['v2 TCP6 with an IPv4 block', v2(0x21, 0x21, v4Block), 'invalid'],
  ['v2 UNIX with 12 bytes', v2(0x21, 0x31, v4Block), 'invalid'],
  ['v2 a TLV longer than the header', v2(0x21, 0x11, [...v4Block, 0x04, 0x00, 0x09, 1]), 'invalid'],
  ['v2 half a TLV header', v2(0x21, 0x11, [...v4Block, 0x04, 0x00]), 'invalid'],
  ['v2 a header over the bound', v2(0x21, 0x11, Buffer.alloc(4000)), 'invalid'],
  ['v2 not yet whole', v2(0x21, 0x11, v4Block).subarray(0, 20), 'incomplete'],
  [
    'v2 a signature byte wrong',
    Buffer.concat([Buffer.from([0x0d, 0x0a, 0x0d, 0x0b]), Buffer.alloc(12)]),
    'invalid',
  ],
];

test('hostile and edge-case headers: each gets what the spec demands', () => {
  for (const [name, bytes, expected] of HEADERS) {
    const parsed = parseProxyHeader(bytes);
    const outcome =
      parsed.status === 'done'
        ? parsed.header.command === 'PROXY' && !parsed.header.source
          ? 'direct'
          : `done ${parsed.header.command}`
        : parsed.status;
    assert.equal(outcome, expected, name);
    if (parsed.status === 'done')
      assert.equal(parsed.header.length, bytes.length, `${name}: the whole header`);
  }
  // The TLVs are skipped: the header ends where its length says.
  const relayed = parseProxyHeader(HEADERS[1]?.[1] ?? Buffer.alloc(0));
  assert.deepEqual(relayed.status === 'done' && relayed.header.source, { address: '2001:DB8::1', port: 1 });
});

test('the v1 encoder writes what the parser reads', () => {
  const parsed = parseProxyHeader(encodeProxyV1(client, server));
  assert.equal(parsed.status === 'done' && parsed.header.source?.port, 40000);
});
