// The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 and 2, as pure functions: a
// balancer in TCP mode sends one header before the client's bytes, naming the client. The receiver
// must not start before a complete, valid header; a listener either requires it or does not.
import net from 'node:net';
import { formatIPv4, formatIPv6, readIPv6, withoutZone, writeIP } from '../net/ip.ts';

export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
// "PROXY TCP6 " + two full IPv6 addresses + two ports + CRLF: the spec's bound.
export const V1_MAX_LENGTH = 107;
// 16 bytes of fixed header, then addresses and TLVs; more than this is not a header worth reading.
export const V2_MAX_LENGTH = 16 + 2048;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

export interface ProxyHeader {
  version: 1 | 2;
  // PROXY: a relayed connection, `source` is the client (none for a v2 family other than TCP: answer
  // as a direct connection). LOCAL: the balancer's own (a health check), or v1's UNKNOWN: direct.
  command: 'PROXY' | 'LOCAL';
  source?: ProxyEndpoint;
  destination?: ProxyEndpoint;
  // Bytes the header took: whatever follows belongs to the client.
  length: number;
}

export type ProxyParse =
  | { status: 'incomplete' }
  | { status: 'invalid'; reason: string }
  | { status: 'done'; header: ProxyHeader };

// Looks at the first `length` bytes received so far: a whole header, not enough yet, or not a header at
// all. Without `addresses` the header is checked whole but its addresses are not made into text (a
// server that logs nothing per connection does not need them).
export function parseProxyHeader(data: Uint8Array, length = data.length, addresses = true): ProxyParse {
  if (startsLike(data, length, V2_SIGNATURE)) {
    return length < V2_SIGNATURE.length ? { status: 'incomplete' } : parseV2(data, length, addresses);
  }
  if (startsLike(data, length, V1_PREFIX)) {
    return length < V1_PREFIX.length
      ? { status: 'incomplete' }
      : parseV1(Buffer.from(data.buffer, data.byteOffset, length));
  }
  return { status: 'invalid', reason: 'no PROXY protocol signature' };
}

// True when the bytes so far are a prefix of `signature` or start with it.
function startsLike(data: Uint8Array, length: number, signature: Uint8Array): boolean {
  const n = Math.min(length, signature.length);
  for (let i = 0; i < n; i++) if (data[i] !== signature[i]) return false;
  return true;
}

// "v2/PROXY"... : the kinds counted in the stats, made once.
export const headerKind = (header: ProxyHeader): string =>
  header.version === 1
    ? header.command === 'PROXY'
      ? 'v1/PROXY'
      : 'v1/LOCAL'
    : header.command === 'PROXY'
      ? 'v2/PROXY'
      : 'v2/LOCAL';

function parseV1(buffer: Buffer): ProxyParse {
  // "The receiver must not tolerate a single CR or LF character to end the line."
  const lf = buffer.indexOf(0x0a);
  const cr = buffer.indexOf(0x0d);
  if ((lf !== -1 && lf !== cr + 1) || (cr !== -1 && cr + 1 < buffer.length && buffer[cr + 1] !== 0x0a))
    return { status: 'invalid', reason: 'v1 line not ended by CRLF' };
  const end = buffer.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return buffer.length >= V1_MAX_LENGTH
      ? { status: 'invalid', reason: `v1 header longer than ${V1_MAX_LENGTH} bytes` }
      : { status: 'incomplete' };
  }
  const length = end + 2;
  if (length > V1_MAX_LENGTH)
    return { status: 'invalid', reason: `v1 header longer than ${V1_MAX_LENGTH} bytes` };
  const line = buffer.toString('latin1', V1_PREFIX.length, end);
  // "the receiver must ignore anything presented before the CRLF" after UNKNOWN
  if (line === 'UNKNOWN' || line.startsWith('UNKNOWN '))
    return { status: 'done', header: { version: 1, command: 'LOCAL', length } };
  const fields = line.split(' ');
  const [family, source, destination, sourcePort, destinationPort] = fields;
  if (family !== 'TCP4' && family !== 'TCP6') return { status: 'invalid', reason: `v1 family ${family}` };
  const ok = family === 'TCP4' ? isCanonicalIPv4 : isCanonicalIPv6;
  const src = port(sourcePort);
  const dst = port(destinationPort);
  if (
    fields.length !== 5 ||
    !ok(source ?? '') ||
    !ok(destination ?? '') ||
    src === undefined ||
    dst === undefined
  ) {
    return { status: 'invalid', reason: 'v1 addresses or ports' };
  }
  return {
    status: 'done',
    header: {
      version: 1,
      command: 'PROXY',
      source: { address: source ?? '', port: src },
      destination: { address: destination ?? '', port: dst },
      length,
    },
  };
}

// "exactly 4 integers in the range [0..255] ... Heading zeroes are not permitted".
const isCanonicalIPv4 = (text: string) =>
  /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text) && net.isIPv4(text);

// Hex groups and colons (one :: at most, 128 bits in all), as inet_ntop writes them, an IPv4-mapped
// tail included; no zone id ("fe80::1%eth0"), which names an interface of the sender, not an address.
const isCanonicalIPv6 = (text: string) => /^[0-9A-Fa-f:.]+$/.test(text) && net.isIPv6(text);

// A decimal port as the spec writes it: 0-65535, no sign, no leading zeros.
function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

// The family/transport pairs the spec defines (byte 14), with the address block each needs; any other
// value "must be rejected as invalid by receivers".
const V2_FAMILIES = new Map<number, number>([
  [0x00, 0], // UNSPEC
  [0x11, 12], // TCP over IPv4
  [0x12, 12], // UDP over IPv4
  [0x21, 36], // TCP over IPv6
  [0x22, 36], // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);

function parseV2(b: Uint8Array, received: number, addresses: boolean): ProxyParse {
  if (received < 16) return { status: 'incomplete' };
  const versionCommand = b[12] ?? 0;
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: `v2 version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { status: 'invalid', reason: `v2 command ${command}` };
  const familyTransport = b[13] ?? 0;
  const addressLength = V2_FAMILIES.get(familyTransport);
  if (addressLength === undefined)
    return {
      status: 'invalid',
      reason: `v2 family/transport 0x${familyTransport.toString(16).padStart(2, '0')}`,
    };
  const rest = ((b[14] ?? 0) << 8) | (b[15] ?? 0);
  const length = 16 + rest;
  if (length > V2_MAX_LENGTH) return { status: 'invalid', reason: `v2 header of ${length} bytes` };
  // LOCAL: "discard the protocol block including the family": nothing in it is read.
  if (command === 0) {
    if (received < length) return { status: 'incomplete' };
    return { status: 'done', header: { version: 2, command: 'LOCAL', length } };
  }
  if (rest < addressLength)
    return { status: 'invalid', reason: `v2 address block of ${rest} bytes, ${addressLength} needed` };
  if (received < length) return { status: 'incomplete' };
  if (!tlvsFit(b, 16 + addressLength, length))
    return { status: 'invalid', reason: 'v2 TLVs overrun the header' };
  // UNSPEC, UDP, UNIX: valid, but not TCP the way this server was reached: "falls back to the UNSPEC
  // mode", the real endpoints.
  const tcp = familyTransport === 0x11 || familyTransport === 0x21;
  if (!tcp || !addresses) return { status: 'done', header: { version: 2, command: 'PROXY', length } };
  const buffer = Buffer.from(b.buffer, b.byteOffset, length);
  const view = new DataView(b.buffer, b.byteOffset, length);
  if (familyTransport === 0x11)
    return done(buffer, length, formatIPv4(view.getUint32(16)), formatIPv4(view.getUint32(20)), 24);
  return done(buffer, length, ipv6(view, 16), ipv6(view, 32), 48);
}

// After the addresses, TLVs (type, 16-bit length, value) up to the header's end: each must fit.
function tlvsFit(b: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    if (at + 3 > end) return false;
    at += 3 + (((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0));
  }
  return at === end;
}

function done(
  buffer: Buffer,
  length: number,
  source: string,
  destination: string,
  ports: number,
): ProxyParse {
  return {
    status: 'done',
    header: {
      version: 2,
      command: 'PROXY',
      source: { address: source, port: buffer.readUInt16BE(ports) },
      destination: { address: destination, port: buffer.readUInt16BE(ports + 2) },
      length,
    },
  };
}

// The canonical text form (RFC 5952), an IPv4-mapped address in hex too (::ffff:a00:1), as this
// decoder has always reported it.
const ipv6 = (view: DataView, at: number) => formatIPv6(readIPv6(view, at), false);

// Encoders, for clients and tests that speak for a balancer.
export function encodeProxyV1(source: ProxyEndpoint, destination: ProxyEndpoint): Buffer {
  const family = net.isIPv6(source.address) ? 'TCP6' : 'TCP4';
  return Buffer.from(
    `PROXY ${family} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

export function encodeProxyV2(source?: ProxyEndpoint, destination?: ProxyEndpoint): Buffer {
  if (!source || !destination) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const six = net.isIPv6(source.address);
  const addresses = Buffer.alloc(six ? 36 : 12);
  const view = new DataView(addresses.buffer, addresses.byteOffset, addresses.length);
  const put = (address: string, at: number) => writeIP(view, at, withoutZone(address));
  put(source.address, 0);
  put(destination.address, six ? 16 : 4);
  addresses.writeUInt16BE(source.port, six ? 32 : 8);
  addresses.writeUInt16BE(destination.port, six ? 34 : 10);
  const head = Buffer.from([0x21, six ? 0x21 : 0x11, 0, 0]);
  head.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addresses]);
}
