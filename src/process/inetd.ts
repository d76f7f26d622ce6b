import { writeSync } from 'node:fs';
import { OptionConflictError } from '../errors.ts';
import { choiceOption } from '../options/validate.ts';
import { DAYTIME_FORMATS } from '../protocol/daytime.ts';
import { ReplyClock, SERVICES, type ServiceName } from '../protocol/replies.ts';

export interface InetdInput {
  // daytime (RFC 867, the default) or time (RFC 868).
  service?: string;
  format?: string;
}

// Options that choose sockets, processes or logging: under inetd there is one connection, already
// accepted, and nothing else to choose.
export const NOT_UNDER_INETD = [
  'host',
  'port',
  'timePort',
  'udp',
  'backlog',
  'workers',
  'metrics',
  'accept',
  'maxConnections',
  'drainTimeout',
  'proxyProtocol',
  'proxyFrom',
  'proxyTimeout',
  'udpRate',
  'udpGlobalRate',
] as const;

// Checked before anything is written: the service, the format, and no option that does not apply.
export function normalizeInetd(
  input: InetdInput,
  given: readonly string[],
): { service: ServiceName; format: string } {
  const clash = NOT_UNDER_INETD.find((option) => given.includes(option));
  if (clash)
    throw new OptionConflictError('conflicts', ['inetd', clash], 'inetd hands over one connection to serve');
  return {
    service: choiceOption('inetd', input.service ?? 'daytime', SERVICES),
    format: choiceOption('format', input.format ?? 'ctime', DAYTIME_FORMATS),
  };
}

// inetd's "nowait" service (and socat's EXEC:, systemd's Accept=yes): the connection is standard input
// and output; one reply, then the process ends and closes it. Nothing else is written: under inetd
// standard output is the client.
export function serveInetd(input: InetdInput, given: readonly string[] = [], fd = 1): void {
  const { service, format } = normalizeInetd(input, given);
  const reply = new ReplyClock(format as (typeof DAYTIME_FORMATS)[number]).reply(service);
  for (let written = 0; written < reply.length; ) written += writeSync(fd, reply, written);
}
