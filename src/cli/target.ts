import { InvalidOptionError } from '../errors.ts';
import { parseTarget, type Target } from '../net/address.ts';
import { type PortOptions, portOption } from '../net/service-port.ts';

// A client's target as get and bench take it: HOST, HOST:PORT, :PORT, [IPV6]:PORT, or nc's order,
// HOST PORT, as two arguments. A HOST that already has its port, then another, is refused (which
// one was meant?); so is anything parseTarget refuses.
export function clientTarget(
  target: string | undefined,
  port: string | undefined,
  defaults: Target,
  options: Pick<PortOptions, 'protocol'> = {},
): Target {
  if (port === undefined) return parseTarget(target, defaults, 'target', options);
  const host = parseTarget(target, { host: defaults.host, port: -1 }, 'target', options);
  if (host.port !== -1) {
    throw new InvalidOptionError(
      'target',
      'a HOST alone when a PORT follows (HOST PORT, as nc takes them, or HOST:PORT)',
      `${target} ${port}`,
    );
  }
  return { host: host.host, port: portOption('port argument', port, options) };
}

// What watch takes: PORT (a word alone is a service name: `watch daytime`), or :PORT and HOST:PORT
// as get and bench take them. A host without a port is refused: watch has no port to assume.
export function watchTarget(text: string): { host: string | undefined; port: number } {
  if (!/[:[]/.test(text)) return { host: undefined, port: portOption('port argument', text) };
  const { host, port } = parseTarget(text, { host: '', port: 0 }, 'target');
  if (!port) throw new InvalidOptionError('target', 'PORT, :PORT, HOST:PORT or [IPV6]:PORT', text);
  return { host: host || undefined, port };
}
