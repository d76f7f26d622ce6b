import { InvalidOptionError } from '../errors.ts';
import {
  AF_INET,
  AF_INET6,
  IN_ADDR,
  IN6_ADDR,
  isMappedIPv4,
  SOCKADDR_IN6,
  sockaddrFamily,
  withoutZone,
  writeIP,
  writeSockaddr,
} from './ip.ts';

// Networks a connection may come from (--proxy-from): IPv4 and IPv6 prefixes as 32-bit words, so that
// an accepted connection's address, as the kernel wrote it, is matched without a string or an object.
// Plain data: it travels to the workers with the rest of the config.
export interface TrustList {
  // "any": every peer may speak for a client.
  any: boolean;
  // The list as given, for the start-up line.
  text: string;
  // [network, mask] per IPv4 prefix.
  v4: number[];
  // [network0..3, mask0..3] per IPv6 prefix.
  v6: number[];
}

// "10.0.0.0/8,2001:db8::/32,192.0.2.7" (a bare address is one host) or "any".
export function parseTrustList(text: string, name = 'proxyFrom'): TrustList {
  const expected = 'a list of addresses or CIDR networks (10.0.0.0/8,2001:db8::/32), or "any"';
  if (text.trim() === 'any') return { any: true, text: 'any', v4: [], v6: [] };
  const v4: number[] = [];
  const v6: number[] = [];
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    const [address = '', prefixText, extra] = item.split('/');
    // An address as 32-bit words in network order: one for IPv4, four for IPv6. A zone id is refused.
    const bytes = new DataView(new ArrayBuffer(16));
    const family = writeIP(bytes, 0, address);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (!family || extra !== undefined || prefix < 0 || prefix > bits)
      throw new InvalidOptionError(
        name,
        expected,
        text,
        item ? `${JSON.stringify(item)} is not one` : undefined,
      );
    const words = Array.from({ length: family === 4 ? 1 : 4 }, (_, i) => bytes.getUint32(4 * i));
    const masks = maskWords(prefix, family);
    const into = family === 4 ? v4 : v6;
    // An IPv4 network is matched in the IPv4 list, whether given as such or as ::ffff:a.b.c.d/96+.
    const mapped = family === 6 && isMappedIPv4(bytes, 0) && prefix >= 96;
    if (mapped) v4.push(((words[3] ?? 0) & mask32(prefix - 96)) >>> 0, mask32(prefix - 96));
    else for (let i = 0; i < words.length; i++) into.push(((words[i] ?? 0) & (masks[i] ?? 0)) >>> 0);
    if (!mapped) into.push(...masks);
  }
  return { any: false, text: items.join(','), v4, v6 };
}

// Whether a sockaddr (as accept4 wrote it, at `view`'s start) is trusted; an IPv4-mapped IPv6 peer
// (a dual-stack listener's IPv4 client) is matched as IPv4.
export function trustsSockaddr(list: TrustList, view: DataView): boolean {
  if (list.any) return true;
  const family = sockaddrFamily(view, 0);
  if (family === AF_INET) return inV4(list.v4, view.getUint32(IN_ADDR));
  if (family !== AF_INET6) return false;
  if (isMappedIPv4(view, IN6_ADDR)) return inV4(list.v4, view.getUint32(IN6_ADDR + 12));
  const w0 = view.getUint32(IN6_ADDR);
  const w1 = view.getUint32(IN6_ADDR + 4);
  const w2 = view.getUint32(IN6_ADDR + 8);
  const w3 = view.getUint32(IN6_ADDR + 12);
  const v6 = list.v6;
  for (let i = 0; i < v6.length; i += 8) {
    if (
      (w0 & (v6[i + 4] ?? 0)) >>> 0 === v6[i] &&
      (w1 & (v6[i + 5] ?? 0)) >>> 0 === v6[i + 1] &&
      (w2 & (v6[i + 6] ?? 0)) >>> 0 === v6[i + 2] &&
      (w3 & (v6[i + 7] ?? 0)) >>> 0 === v6[i + 3]
    )
      return true;
  }
  return false;
}

// The same for an address as text (what a net.Socket reports; a link-local peer's zone id is dropped).
export function trustsAddress(list: TrustList, address: string): boolean {
  if (list.any) return true;
  const view = new DataView(new ArrayBuffer(SOCKADDR_IN6));
  return writeSockaddr(view, 0, withoutZone(address), 0) > 0 && trustsSockaddr(list, view);
}

function inV4(v4: number[], address: number): boolean {
  for (let i = 0; i < v4.length; i += 2) if ((address & (v4[i + 1] ?? 0)) >>> 0 === v4[i]) return true;
  return false;
}

const mask32 = (bits: number) => (bits <= 0 ? 0 : (0xffffffff << (32 - Math.min(32, bits))) >>> 0);

function maskWords(prefix: number, family: 4 | 6): number[] {
  if (family === 4) return [mask32(prefix)];
  return [0, 1, 2, 3].map((i) => mask32(prefix - 32 * i));
}
