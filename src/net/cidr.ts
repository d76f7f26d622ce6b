import net from 'node:net';
import { InvalidOptionError } from '../errors.ts';

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

const AF_INET = 2;
const AF_INET6 = 10;

// "10.0.0.0/8,2001:db8::/32,192.0.2.7" (a bare address is one host) or "any".
export function parseTrustList(text: string, name = 'proxyFrom'): TrustList {
  const expected = 'a list of addresses or CIDR networks (10.0.0.0/8,2001:db8::/32), or "any"';
  if (text.trim() === 'any') return { any: true, text: 'any', v4: [], v6: [] };
  const v4: number[] = [];
  const v6: number[] = [];
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    const [address = '', prefixText, extra] = item.split('/');
    const family = net.isIPv4(address) ? 4 : net.isIPv6(address) && !address.includes('%') ? 6 : 0;
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (!family || extra !== undefined || prefix < 0 || prefix > bits)
      throw new InvalidOptionError(
        name,
        expected,
        text,
        item ? `${JSON.stringify(item)} is not one` : undefined,
      );
    const words = addressWords(address);
    const masks = maskWords(prefix, family);
    const into = family === 4 ? v4 : v6;
    // An IPv4 network is matched in the IPv4 list, whether given as such or as ::ffff:a.b.c.d/96+.
    const mapped = family === 6 && isMapped(words) && prefix >= 96;
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
  const family = view.getUint16(0, true);
  if (family === AF_INET) return inV4(list.v4, view.getUint32(4, false));
  if (family !== AF_INET6) return false;
  const w0 = view.getUint32(8, false);
  const w1 = view.getUint32(12, false);
  const w2 = view.getUint32(16, false);
  const w3 = view.getUint32(20, false);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return inV4(list.v4, w3);
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

// The same for an address as text (what a net.Socket reports).
export function trustsAddress(list: TrustList, address: string): boolean {
  if (list.any) return true;
  const view = new DataView(new ArrayBuffer(24));
  if (net.isIPv4(address)) {
    view.setUint16(0, AF_INET, true);
    view.setUint32(4, addressWords(address)[0] ?? 0, false);
  } else if (net.isIPv6(address)) {
    view.setUint16(0, AF_INET6, true);
    for (const [i, word] of addressWords(address.split('%')[0] ?? '').entries())
      view.setUint32(8 + 4 * i, word, false);
  } else return false;
  return trustsSockaddr(list, view);
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

const isMapped = (w: number[]) => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;

// An address as 32-bit words in network order: one for IPv4, four for IPv6 (an embedded IPv4 tail
// included).
function addressWords(address: string): number[] {
  if (net.isIPv4(address))
    return [address.split('.').reduce((w, octet) => ((w << 8) | Number(octet)) >>> 0, 0)];
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (tail) {
    const w = addressWords(tail)[0] ?? 0;
    text = `${text.slice(0, -tail.length)}${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [left = '', right] = text.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = groups(left);
  const rest = right === undefined ? [] : groups(right);
  const all = [...head, ...Array(8 - head.length - rest.length).fill(0), ...rest];
  return [0, 1, 2, 3].map((i) => (((all[2 * i] ?? 0) << 16) | (all[2 * i + 1] ?? 0)) >>> 0);
}
