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

test('v2 that is not a header: version 1 byte, command 2, truncated addresses, too long', () => {
  const v4 = encodeProxyV2(client, server);
  // Byte 12 version 1, command 2; a length too short for the addresses; a length past the bound.
  for (const [at, value, width] of [
    [12, 0x11, 1],
    [12, 0x22, 1],
    [14, 4, 2],
    [14, 60000, 2],
  ] as const) {
    const b = Buffer.from(v4);
    b.writeUIntBE(value, at, width);
    assert.equal(parseProxyHeader(b).status, 'invalid', `byte ${at} = ${value}`);
  }
  // UDP or AF_UNIX from the balancer: answered as a direct connection.
  const udp = parseProxyHeader(Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x12, 0, 0])]));
  assert.equal(udp.status === 'done' && udp.header.command, 'LOCAL');
});

test('the v1 encoder writes what the parser reads', () => {
  const parsed = parseProxyHeader(encodeProxyV1(client, server));
  assert.equal(parsed.status === 'done' && parsed.header.source?.port, 40000);
});
