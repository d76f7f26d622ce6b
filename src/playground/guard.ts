import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { formatHostPort } from '../net/address.ts';
import { withoutZone } from '../net/ip.ts';

// The status for each code is the catalog's (httpStatusOf).
export interface Refusal {
  code: 'ERR_TOKEN' | 'ERR_HOST' | 'ERR_ORIGIN';
  message: string;
}

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];
const WILDCARD = ['0.0.0.0', '::', ''];

// The Host values the app answers to: its own address, and the loopback names when it listens on
// loopback or on every interface. A page that a DNS-rebinding name led to the app sends that name,
// and is refused.
export function allowedHosts(host: string, port: number): Set<string> {
  const names = new Set([host]);
  if (LOOPBACK.includes(host) || WILDCARD.includes(host)) for (const name of LOOPBACK) names.add(name);
  if (WILDCARD.includes(host)) {
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) names.add(withoutZone(address.address));
    }
  }
  return new Set([...names].filter((n) => n !== '').map((n) => formatHostPort(n.toLowerCase(), port)));
}

// The token from `Authorization: Bearer TOKEN`, or `?token=` (an EventSource cannot set headers).
export function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const header = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  return header ?? url.searchParams.get('token') ?? undefined;
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

// Host first (a rebinding page must learn nothing, not even that a token is wanted), then Origin (a
// page on another site may send requests here but must not act), then the token where one is needed.
export function refuse(
  request: IncomingMessage,
  url: URL,
  options: { hosts: Set<string>; token: string; needsToken: boolean },
): Refusal | undefined {
  const host = request.headers.host ?? '';
  if (!options.hosts.has(host.toLowerCase())) {
    return {
      code: 'ERR_HOST',
      message: `Host ${JSON.stringify(host)} is not this playground's address`,
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, options.hosts)) {
    return {
      code: 'ERR_ORIGIN',
      message: `requests from ${JSON.stringify(origin)} are refused`,
    };
  }
  if (options.needsToken && !sameToken(tokenOf(request, url), options.token)) {
    return {
      code: 'ERR_TOKEN',
      message: 'a valid token is needed: use the address `daytime playground` printed (…/?token=…)',
    };
  }
  return undefined;
}

function isOwnOrigin(origin: string, hosts: Set<string>): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.pathname === '/' && hosts.has(url.host);
  } catch {
    return false;
  }
}
