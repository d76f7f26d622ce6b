import type { PathFallback } from './listener-info.ts';
import type { ServerLogger } from './logger.ts';

// "uring not used: REASON".
export const describeFallback = (fallback: PathFallback) => `${fallback.path} not used: ${fallback.reason}`;

export interface Readiness {
  port: number | undefined;
  listeners: number;
  // TCP listeners by accept path.
  acceptPaths: Record<string, number>;
  // With --accept auto: the faster path that could not run here, and why.
  acceptFallback?: PathFallback;
  // UDP sockets by path (mmsg, dgram).
  udpPaths?: Record<string, number>;
  workers?: number;
  pids?: number[];
  metrics?: string;
  // --proxy-from, as given.
  proxyFrom?: string;
}

// One line once every listener (TCP, UDP, metrics; every worker's) is bound: scripts and tests wait for
// it. With --workers it comes from the primary, once.
export function logReady(logger: ServerLogger | undefined, ready: Readiness): void {
  const paths = Object.keys(ready.acceptPaths);
  const udpPaths = Object.keys(ready.udpPaths ?? {});
  const parts = [
    ready.workers === undefined
      ? `ready: ${ready.listeners} listener(s)`
      : `ready: ${ready.workers} workers (pids ${ready.pids?.join(', ')}), ${ready.listeners} listener(s) each`,
  ];
  if (paths.length > 0) parts.push(`TCP connections taken by the ${paths.join(', ')} accept path`);
  if (ready.acceptFallback) parts.push(describeFallback(ready.acceptFallback));
  if (udpPaths.length > 0) parts.push(`UDP datagrams read by the ${udpPaths.join(', ')} path`);
  if (ready.proxyFrom)
    parts.push(
      `a PROXY header is read first and believed only from ${ready.proxyFrom === 'any' ? 'anyone (--proxy-from any)' : ready.proxyFrom}`,
    );
  if (ready.metrics) parts.push(`metrics on ${ready.metrics}`);
  logger?.info(
    {
      ready: true,
      port: ready.port,
      listeners: ready.listeners,
      ...(paths.length > 0 ? { acceptPath: paths.join(',') } : {}),
      ...(ready.acceptFallback ? { acceptFallback: ready.acceptFallback } : {}),
      ...(udpPaths.length > 0 ? { udpPath: udpPaths.join(',') } : {}),
      ...(ready.workers === undefined ? {} : { workers: ready.workers, pids: ready.pids }),
      ...(ready.metrics ? { metrics: ready.metrics } : {}),
      ...(ready.proxyFrom ? { proxyFrom: ready.proxyFrom } : {}),
    },
    parts.join('; '),
  );
}
