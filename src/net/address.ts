import net from 'node:net';
import { InvalidOptionError } from '../errors.ts';
import { type PortOptions, portOption } from './service-port.ts';

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

const FORMS = 'HOST, HOST:PORT, :PORT, [IPV6] or [IPV6]:PORT';
// A name or an IPv4 address; resolution itself happens at connect time (ENOTFOUND, exit 1).
const HOST_NAME = /^[A-Za-z0-9_.-]{1,253}$/;
const isIPv6 = (text: string) => net.isIPv6(text.split('%')[0] ?? '');

// Parses HOST, HOST:PORT, :PORT, [IPV6] and [IPV6]:PORT; PORT is a number or a service name from
// /etc/services. A bare IPv6 address without brackets is taken whole as the host, since its colons
// cannot be told apart from a port separator. Anything else is bad input (InvalidOptionError), found
// here rather than by the resolver, so `'[::1'` exits 2 instead of failing a lookup.
export function parseTarget(
  text: string | undefined,
  defaults: Target,
  name = 'target',
  options: Pick<PortOptions, 'protocol' | 'servicesFile'> = {},
): Target {
  if (text === undefined) return defaults;
  const bad = (hint?: string) => new InvalidOptionError(name, FORMS, text, hint);
  const port = (value: string | undefined) =>
    value === undefined ? defaults.port : portOption(`${name} port`, value, options);
  if (text === '') throw bad();
  if (text.startsWith('[')) {
    const bracketed = /^\[([^\]]+)\](?::([^:]+))?$/.exec(text);
    if (!bracketed || !isIPv6(bracketed[1] ?? '')) throw bad('Brackets hold an IPv6 address');
    return { host: bracketed[1] as string, port: port(bracketed[2]) };
  }
  if (text.split(':').length > 2) {
    if (!isIPv6(text)) throw bad();
    return { host: text, port: defaults.port };
  }
  const [host = '', portText] = text.split(':');
  if (host !== '' && !HOST_NAME.test(host)) throw bad();
  // The resolver reads "9464" as the IPv4 address 0.0.36.248: nobody means that.
  if (/^\d+$/.test(host)) throw bad(`A number alone is a port, not a host (:${host} or HOST:${host})`);
  if (portText === '') throw bad();
  return { host: host || defaults.host, port: port(portText) };
}
