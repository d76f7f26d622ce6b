import {
  AF_INET,
  AF_INET6,
  IN_ADDR,
  IN6_ADDR,
  isMappedIPv4,
  parseIPv4,
  sockaddrFamily,
  withoutZone,
  writeIP,
} from '../net/ip.ts';
import type { SourceKey } from './rate-limit.ts';

// A source address as the rate limiter keys it, cheap to make from a raw sockaddr: an IPv4 address,
// or an IPv4-mapped IPv6 one (how a dual-stack socket reports IPv4 peers), is its 32-bit number; an
// IPv6 address is a string of its eight 16-bit groups as UTF-16 code units. No text, no object per
// datagram. Both UDP paths make the same key for the same source: the batched path from the
// sockaddr the kernel wrote, the dgram path from Node's text.

export function sockaddrKey(view: DataView, offset: number): SourceKey {
  const family = sockaddrFamily(view, offset);
  if (family === AF_INET) return view.getUint32(offset + IN_ADDR);
  if (family !== AF_INET6) return '';
  return ipv6Key(view, offset + IN6_ADDR);
}

// Node's text for the same: IPv4 read as it is, IPv6 written out as the kernel would have.
const scratch = new DataView(new ArrayBuffer(16));

export function addressKey(address: string): SourceKey {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return v4;
  return writeIP(scratch, 0, withoutZone(address)) === 6 ? ipv6Key(scratch, 0) : '';
}

function ipv6Key(view: DataView, at: number): SourceKey {
  if (isMappedIPv4(view, at)) return view.getUint32(at + 12);
  return String.fromCharCode(
    view.getUint16(at),
    view.getUint16(at + 2),
    view.getUint16(at + 4),
    view.getUint16(at + 6),
    view.getUint16(at + 8),
    view.getUint16(at + 10),
    view.getUint16(at + 12),
    view.getUint16(at + 14),
  );
}
