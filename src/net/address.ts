import { InvalidOptionError } from '../errors.ts';
import { integerOption } from '../options/validate.ts';

// "[::1]:9999" for IPv6, "127.0.0.1:9999" otherwise: the form users paste back into `daytime get`.
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; people expect a.b.c.d.
export function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

// The eight 16-bit groups of an IPv6 address in text form, "::1", "fe80::1%eth0" and "::ffff:192.0.2.1"
// (an IPv4 tail) included.
export function ipv6Groups(address: string): number[] {
  const zoneless = address.split('%')[0] ?? '';
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(zoneless);
  const hex = (high: string | undefined, low: string | undefined) =>
    ((Number(high) << 8) | Number(low)).toString(16);
  const text = v4 ? `${zoneless.slice(0, v4.index)}${hex(v4[1], v4[2])}:${hex(v4[3], v4[4])}` : zoneless;
  const [left = '', right] = text.split('::');
  const parse = (s: string) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = parse(left);
  const tail = right === undefined ? [] : parse(right);
  return [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail];
}

export interface Target {
  host: string;
  port: number;
}

// Parses HOST, HOST:PORT, :PORT, [IPV6] and [IPV6]:PORT. A bare IPv6 address without brackets is
// taken whole as the host, since its colons cannot be told apart from a port separator.
export function parseTarget(text: string | undefined, defaults: Target, name = 'target'): Target {
  if (text === undefined) return defaults;
  if (text === '') throw new InvalidOptionError(name, 'HOST[:PORT] or [IPV6]:PORT', text);
  const bracketed = /^\[([0-9A-Fa-f:.%\w-]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const port = bracketed[2];
    return {
      host: bracketed[1] ?? defaults.host,
      port: port === undefined ? defaults.port : integerOption(`${name} port`, port, { min: 1, max: 65535 }),
    };
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) return { host: text, port: defaults.port };
  const [host, port] = text.split(':');
  if (host !== undefined && host !== '' && !/^[\x21-\x7e]+$/.test(host)) {
    throw new InvalidOptionError(name, 'HOST[:PORT] or [IPV6]:PORT', text);
  }
  return {
    host: host || defaults.host,
    port: port === undefined ? defaults.port : integerOption(`${name} port`, port, { min: 1, max: 65535 }),
  };
}
