// The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 and 2, as pure functions: a
// balancer in TCP mode sends one header before the client's bytes, naming the client. The receiver
// must not start before a complete, valid header; a listener either requires it or does not.
import net from 'node:net';
import { ipv6Groups } from '../net/address.ts';

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
  // PROXY: a relayed connection, `source` is the client. LOCAL: the balancer's own (a health check),
  // or v1's UNKNOWN, or a v2 family this server does not relay: answer as a direct connection.
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

// Looks at the bytes received so far: a whole header, not enough yet, or not a header at all.
export function parseProxyHeader(data: Uint8Array): ProxyParse {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (startsLike(buffer, V2_SIGNATURE)) {
    return buffer.length < V2_SIGNATURE.length ? { status: 'incomplete' } : parseV2(buffer);
  }
  if (startsLike(buffer, V1_PREFIX)) {
    return buffer.length < V1_PREFIX.length ? { status: 'incomplete' } : parseV1(buffer);
  }
  return { status: 'invalid', reason: 'no PROXY protocol signature' };
}

// True when the bytes so far are a prefix of `signature` or start with it.
function startsLike(buffer: Buffer, signature: Buffer): boolean {
  const n = Math.min(buffer.length, signature.length);
  return buffer.subarray(0, n).equals(signature.subarray(0, n));
}

function parseV1(buffer: Buffer): ProxyParse {
  const end = buffer.indexOf('\r\n', 0, 'latin1');
  if (end === -1) {
    return buffer.length >= V1_MAX_LENGTH
      ? { status: 'invalid', reason: `v1 header longer than ${V1_MAX_LENGTH} bytes` }
      : { status: 'incomplete' };
  }
  const length = end + 2;
  if (length > V1_MAX_LENGTH)
    return { status: 'invalid', reason: `v1 header longer than ${V1_MAX_LENGTH} bytes` };
  const fields = buffer.toString('latin1', V1_PREFIX.length, end).split(' ');
  const [family, source, destination, sourcePort, destinationPort] = fields;
  if (family === 'UNKNOWN') return { status: 'done', header: { version: 1, command: 'LOCAL', length } };
  if (family !== 'TCP4' && family !== 'TCP6') return { status: 'invalid', reason: `v1 family ${family}` };
  const ok = family === 'TCP4' ? net.isIPv4 : net.isIPv6;
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

// A decimal port as the spec writes it: 0-65535, no sign, no leading zeros.
function port(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV2(buffer: Buffer): ProxyParse {
  if (buffer.length < 16) return { status: 'incomplete' };
  const versionCommand = buffer[12] ?? 0;
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: `v2 version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { status: 'invalid', reason: `v2 command ${command}` };
  const rest = buffer.readUInt16BE(14);
  const length = 16 + rest;
  if (length > V2_MAX_LENGTH) return { status: 'invalid', reason: `v2 header of ${length} bytes` };
  if (buffer.length < length) return { status: 'incomplete' };
  if (command === 0) return { status: 'done', header: { version: 2, command: 'LOCAL', length } };
  const familyTransport = buffer[13] ?? 0;
  // TCP over IPv4 and over IPv6 are relayed; anything else (UNSPEC, UDP, AF_UNIX) is answered as direct.
  if (familyTransport === 0x11) {
    if (rest < 12) return { status: 'invalid', reason: 'v2 IPv4 addresses truncated' };
    return done(buffer, length, ipv4(buffer, 16), ipv4(buffer, 20), 24);
  }
  if (familyTransport === 0x21) {
    if (rest < 36) return { status: 'invalid', reason: 'v2 IPv6 addresses truncated' };
    return done(buffer, length, ipv6(buffer, 16), ipv6(buffer, 32), 48);
  }
  return { status: 'done', header: { version: 2, command: 'LOCAL', length } };
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

const ipv4 = (b: Buffer, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

// The canonical text form (RFC 5952: lower case, the longest run of zero groups as ::).
function ipv6(b: Buffer, at: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(at + 2 * i));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

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
  const put = (address: string, at: number) => {
    const parts = six ? ipv6Groups(address) : address.split('.').map(Number);
    for (const [i, part] of parts.entries()) {
      if (six) addresses.writeUInt16BE(part, at + 2 * i);
      else addresses.writeUInt8(part, at + i);
    }
  };
  put(source.address, 0);
  put(destination.address, six ? 16 : 4);
  addresses.writeUInt16BE(source.port, six ? 32 : 8);
  addresses.writeUInt16BE(destination.port, six ? 34 : 10);
  const head = Buffer.from([0x21, six ? 0x21 : 0x11, 0, 0]);
  head.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, addresses]);
}
