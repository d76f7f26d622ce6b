import { endianness } from 'node:os';

// IP addresses as text and as bytes, and the socket addresses (struct sockaddr_in, sockaddr_in6) the
// kernel reads and writes: pure functions over strings and DataViews, so that the per-connection and
// per-datagram callers (the trust list, the UDP source keys) read a kernel-written address in place.
// An IPv4 address is a 32-bit unsigned number; an IPv6 one its eight 16-bit groups.

// Linux's address families.
export const AF_INET = 2;
export const AF_INET6 = 10;
// sizeof(struct sockaddr_in) and sizeof(struct sockaddr_in6): the family (2 bytes, in host byte order),
// the port (2, network order), then the address in network order at IN_ADDR or IN6_ADDR (an IPv6
// address is preceded by sin6_flowinfo and followed by sin6_scope_id).
export const SOCKADDR_IN = 16;
export const SOCKADDR_IN6 = 28;
export const IN_ADDR = 4;
export const IN6_ADDR = 8;
// The platform's byte order, which a sockaddr's family and a socklen_t are in.
export const HOST_LE = endianness() === 'LE';

// "192.0.2.1" as a number: four decimal octets, no leading zeros (what inet_pton and net.isIPv4
// accept); undefined otherwise. No regular expression and no array: the dgram path calls it per datagram.
export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && !(digits === 1 && octet === 0)) {
      octet = octet * 10 + c - 48;
      digits++;
      if (octet > 255) return undefined;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

// The eight groups of an IPv6 address in text: compressed ("::1"), full, or with an IPv4 tail
// ("::ffff:192.0.2.1"); what net.isIPv6 accepts, read in one pass (the dgram path's IPv6 sources). A
// zone id ("fe80::1%eth0") names an interface of this host, not an address: it is refused here
// (undefined), and callers that take it off say so (withoutZone).
export function parseIPv6(text: string): number[] | undefined {
  const groups: number[] = [];
  const end = text.length;
  // Where "::" stands among the groups, if it does.
  let gap = -1;
  let i = 0;
  if (text.startsWith('::')) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let j = i;
    for (let digit = hexDigit(text.charCodeAt(j)); digit >= 0; digit = hexDigit(text.charCodeAt(++j)))
      value = value * 16 + digit;
    if (text.charCodeAt(j) === 46) {
      const v4 = parseIPv4(text.slice(i));
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    if (j === i || j - i > 4) return undefined;
    groups.push(value);
    if (j === end) break;
    if (text.charCodeAt(j) !== 58 || j + 1 === end) return undefined;
    i = j + 1;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      i++;
    }
  }
  if (gap < 0) return groups.length === 8 ? groups : undefined;
  if (groups.length > 7) return undefined;
  groups.splice(gap, 0, ...Array<number>(8 - groups.length).fill(0));
  return groups;
}

const hexDigit = (c: number) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;

export const withoutZone = (text: string): string => text.split('%')[0] ?? '';

export const formatIPv4 = (value: number): string =>
  `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;

// The longest run of two or more zero groups as "::" (the first of equal runs), lower-case hex: what
// inet_ntop writes (RFC 5952). With `dotted`, as inet_ntop does, an IPv4-mapped (::ffff:a.b.c.d) or
// IPv4-compatible (::a.b.c.d) address ends in its IPv4 address.
export function formatIPv6(groups: readonly number[], dotted = true): string {
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
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16));
  if (dotted && best === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    const v4 = formatIPv4((((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0);
    return `::${bestLength === 5 ? 'ffff:' : ''}${v4}`;
  }
  if (best === -1) return hex(0, 8).join(':');
  return `${hex(0, best).join(':')}::${hex(best + bestLength, 8).join(':')}`;
}

// A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; people expect a.b.c.d.
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

// Whether the 16 bytes at `at` are an IPv4-mapped IPv6 address, whose last four are then an IPv4 one
// (how a dual-stack socket reports IPv4 peers).
export const isMappedIPv4 = (view: DataView, at: number): boolean =>
  view.getUint32(at) === 0 && view.getUint32(at + 4) === 0 && view.getUint32(at + 8) === 0xffff;

export function readIPv6(view: DataView, at: number): number[] {
  return Array.from({ length: 8 }, (_, i) => view.getUint16(at + 2 * i));
}

// Writes an address given as text (no zone id) in network order at `at`: 4 bytes or 16. Returns 4 or
// 6, the IP version, or 0 (nothing written) when the text is not an address.
export function writeIP(view: DataView, at: number, text: string): 0 | 4 | 6 {
  const v4 = text.includes(':') ? undefined : parseIPv4(text);
  if (v4 !== undefined) {
    view.setUint32(at, v4);
    return 4;
  }
  const groups = parseIPv6(text);
  if (!groups) return 0;
  for (let i = 0; i < 8; i++) view.setUint16(at + 2 * i, groups[i] ?? 0);
  return 6;
}

export const sockaddrFamily = (view: DataView, offset: number): number => view.getUint16(offset, HOST_LE);

export function setSockaddrFamily(view: DataView, offset: number, family: number): void {
  view.setUint16(offset, family, HOST_LE);
}

// A sockaddr_in or sockaddr_in6 for a numeric address and a port at `offset` (at least SOCKADDR_IN6
// bytes of room for an IPv6 address); its length, or 0 when `address` is not one.
export function writeSockaddr(view: DataView, offset: number, address: string, port: number): number {
  const six = address.includes(':');
  const length = six ? SOCKADDR_IN6 : SOCKADDR_IN;
  for (let i = 0; i < length; i++) view.setUint8(offset + i, 0);
  const version = writeIP(view, offset + (six ? IN6_ADDR : IN_ADDR), address);
  if (version !== (six ? 6 : 4)) return 0;
  setSockaddrFamily(view, offset, six ? AF_INET6 : AF_INET);
  view.setUint16(offset + 2, port);
  return length;
}

// The address and port of a sockaddr_in or sockaddr_in6, in the text inet_ntop writes (an IPv4-mapped
// address stays as it is); undefined for any other family.
export function readSockaddr(view: DataView, offset: number): { address: string; port: number } | undefined {
  const family = sockaddrFamily(view, offset);
  const port = view.getUint16(offset + 2);
  if (family === AF_INET) return { address: formatIPv4(view.getUint32(offset + IN_ADDR)), port };
  if (family === AF_INET6) return { address: formatIPv6(readIPv6(view, offset + IN6_ADDR)), port };
  return undefined;
}
