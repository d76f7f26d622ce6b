import { formatHostPort } from '../net/address.ts';
import type { ListenerInfo } from './listener-info.ts';
import type { ServerLogger } from './logger.ts';

// The start-up line of one listener: where, and what the kernel made of the backlog. With --workers the
// primary says it once for all of them: each worker has a socket of its own with that backlog.
export function logListening(logger: ServerLogger | undefined, info: ListenerInfo, workers = 1): void {
  if (!logger) return;
  const scope = info.inherited
    ? ' (inherited from systemd)'
    : info.allInterfaces
      ? info.family === 'IPv6'
        ? ' (all interfaces, IPv6 and IPv4)'
        : ' (all IPv4 interfaces)'
      : '';
  const parts = [
    `${info.service} listening on ${formatHostPort(info.address, info.port)}/${info.transport}${scope}`,
  ];
  if (workers > 1) parts.push(`${workers} workers, a socket each`);
  const fields = { service: info.service, transport: info.transport, address: info.address, port: info.port };
  const backlog = info.backlog;
  if (!backlog) {
    logger.info(fields, [...parts, 'UDP has no backlog'].join('; '));
    return;
  }
  const kernel =
    backlog.somaxconn === undefined
      ? 'somaxconn unknown (no /proc)'
      : `${backlog.effective} effective (net.core.somaxconn ${backlog.somaxconn})`;
  parts.push(
    `backlog ${backlog.requested} ${info.inherited ? 'kept from the socket unit' : 'requested'}, ${kernel}`,
  );
  if (backlog.acceptQueueCapacity !== undefined)
    parts.push(`the accept queue holds ${backlog.acceptQueueCapacity} connections (backlog + 1 on Linux)`);
  logger.info(
    {
      ...fields,
      backlog: backlog.requested,
      effectiveBacklog: backlog.effective,
      acceptPath: info.acceptPath,
    },
    parts.join('; '),
  );
  if (backlog.clamped) {
    logger.warn(
      `backlog ${backlog.requested} is clamped by the kernel to net.core.somaxconn = ${backlog.somaxconn}; ` +
        `raise it with: sysctl -w net.core.somaxconn=${backlog.requested}`,
    );
  }
}
