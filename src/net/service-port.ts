import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../errors.ts';

export const SERVICES_FILE = '/etc/services';

export type ServiceProtocol = 'tcp' | 'udp';

// name -> port, per protocol, with every alias; read once per file.
type ServiceTable = Map<string, Map<ServiceProtocol, number>>;
const tables = new Map<string, ServiceTable | Error>();

// `daytime 13/tcp`, `time 37/udp timserver`: name, port/protocol, aliases, then an optional comment.
export function parseServices(text: string): ServiceTable {
  const table: ServiceTable = new Map();
  for (const line of text.split('\n')) {
    const [name, portProtocol, ...aliases] = (line.split('#')[0] ?? '').trim().split(/\s+/);
    const match = /^(\d{1,5})\/(tcp|udp)$/.exec(portProtocol ?? '');
    if (!name || !match) continue;
    const port = Number(match[1]);
    if (port > 65535) continue;
    for (const key of [name, ...aliases]) {
      const byProtocol = table.get(key) ?? new Map<ServiceProtocol, number>();
      // The first entry wins, as getservbyname(3) reads the file top down.
      if (!byProtocol.has(match[2] as ServiceProtocol)) byProtocol.set(match[2] as ServiceProtocol, port);
      table.set(key, byProtocol);
    }
  }
  return table;
}

function servicesTable(file: string): ServiceTable | Error {
  let table = tables.get(file);
  if (table === undefined) {
    try {
      table = parseServices(readFileSync(file, 'latin1'));
    } catch (error) {
      table = error as Error;
    }
    tables.set(file, table);
  }
  return table;
}

export interface PortOptions {
  // The lowest port accepted: 1 for a target, 0 where 0 means "any free port".
  min?: number;
  // Which entry of the services file to prefer; the other protocol's is taken when only it exists.
  protocol?: ServiceProtocol;
  // For tests and other systems; /etc/services by default.
  servicesFile?: string;
}

// A port as users write it: a number (passed through, range-checked) or a service name from
// /etc/services (`daytime` -> 13), as inetd, getaddrinfo(3) and nc take it. Throws
// InvalidOptionError (exit 2 on the command line) naming the option, before any socket opens.
export function portOption(name: string, value: number | string, options: PortOptions = {}): number {
  const { min = 1, protocol = 'tcp', servicesFile = SERVICES_FILE } = options;
  const text = typeof value === 'string' ? value.trim() : String(value);
  const expected = `a port number from ${min} to 65535 or a service name from ${servicesFile}`;
  if (/^[+-]?\d+$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > 65535) throw new InvalidOptionError(name, expected, value);
    return n;
  }
  if (!/^[A-Za-z][\w.+-]*$/.test(text)) throw new InvalidOptionError(name, expected, value);
  const table = servicesTable(servicesFile);
  if (table instanceof Error) {
    throw new InvalidOptionError(name, expected, value, `${servicesFile} cannot be read here: give a number`);
  }
  const ports = table.get(text);
  const port = ports?.get(protocol) ?? ports?.get(protocol === 'tcp' ? 'udp' : 'tcp');
  if (port === undefined || port < min) {
    throw new InvalidOptionError(name, expected, value, `${servicesFile} has no such service`);
  }
  return port;
}
