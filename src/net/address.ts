import net from 'node:net';
import { InvalidOptionError } from '../errors.ts';
import { withoutZone } from './ip.ts';
import { type PortOptions, portOption } from './service-port.ts';

// "[::1]:9999" for IPv6, "127.0.0.1:9999" otherwise: the form users paste back into `daytime get`.
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

// Where the accept paths have always found it (the address module is ip.ts).
export { unmapIPv4 } from './ip.ts';

export interface Target {
  host: string;
  port: number;
}

const FORMS = 'HOST, HOST:PORT, :PORT, [IPV6] or [IPV6]:PORT';
// A name or an IPv4 address; resolution itself happens at connect time (ENOTFOUND, exit 1).
const HOST_NAME = /^[A-Za-z0-9_.-]{1,253}$/;
const isIPv6 = (text: string) => net.isIPv6(withoutZone(text));

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
