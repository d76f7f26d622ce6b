import { endianness } from 'node:os';
import { AF_INET, AF_INET6 } from '../kernel/socket-calls.ts';
import { ipv6Groups } from '../net/address.ts';
import type { SourceKey } from './rate-limit.ts';

// A source address as the rate limiter keys it, cheap to make from a raw sockaddr: an IPv4 address,
// or an IPv4-mapped IPv6 one (how a dual-stack socket reports IPv4 peers), is its 32-bit number; an
// IPv6 address is a string of its eight 16-bit groups as UTF-16 code units. No text, no object per
// datagram. Both UDP paths make the same key for the same source: the batched path from the
// sockaddr the kernel wrote, the dgram path from Node's text.

// sa_family is in host byte order; addresses are in network order.
const HOST_LE = endianness() === 'LE';

export function sockaddrKey(view: DataView, offset: number): SourceKey {
  const family = view.getUint16(offset, HOST_LE);
  if (family === AF_INET) return view.getUint32(offset + 4);
  if (family !== AF_INET6) return '';
  const address = offset + 8;
  if (
    view.getUint32(address) === 0 &&
    view.getUint32(address + 4) === 0 &&
    view.getUint32(address + 8) === 0xffff
  )
    return view.getUint32(address + 12);
  return String.fromCharCode(
    view.getUint16(address),
    view.getUint16(address + 2),
    view.getUint16(address + 4),
    view.getUint16(address + 6),
    view.getUint16(address + 8),
    view.getUint16(address + 10),
    view.getUint16(address + 12),
    view.getUint16(address + 14),
  );
}

export function addressKey(address: string): SourceKey {
  if (!address.includes(':')) return ipv4Number(address);
  const groups = ipv6Groups(address);
  const mapped = groups[5] === 0xffff && groups.slice(0, 5).every((g) => g === 0);
  if (mapped) return (((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0;
  return String.fromCharCode(...groups);
}

const ipv4Number = (address: string) =>
  address.split('.').reduce((n, octet) => n * 256 + (Number(octet) & 0xff), 0);
