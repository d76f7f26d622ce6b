// Why a UDP reply was not sent (udp/rate-limit.ts decides): a metric label.
export type DropReason = 'source_rate' | 'global_rate' | 'source_table_full';

export interface ServerStats {
  // Connections accepted from the kernel's queues.
  connections: number;
  // Full replies handed to the kernel: TCP connections and UDP datagrams.
  served: number;
  // The same, by "service/transport" (daytime/tcp, time/udp...).
  servedBy: Record<string, number>;
  // Connections closed at once because --max-connections were open.
  rejected: number;
  // UDP datagrams received, and those left unanswered by the rate limits.
  udpReceived: number;
  udpDropped: Partial<Record<DropReason, number>>;
  // Per-connection, accept and send errors, by code (ECONNRESET, EPIPE, EMFILE, ETIMEDOUT...).
  errors: Record<string, number>;
  // TCP listeners by the accept path that takes their connections (uring, libc, handle, socket).
  acceptPaths: Record<string, number>;
  // Those taken by a slower path because a faster one could not run here, by "path/unavailable/reason"
  // ("libc/uring/refused": io_uring refused, so libc).
  acceptFallbacks: Record<string, number>;
  // UDP sockets by the path that reads and answers their datagrams (mmsg, dgram).
  udpPaths: Record<string, number>;
  // --proxy-protocol: complete headers by kind ("v2/PROXY", "v2/LOCAL", "v1/PROXY"...), and
  // connections closed without a reply by reason (missing, malformed, timeout, evicted).
  proxyHeaders: Record<string, number>;
  proxyRefused: Record<string, number>;
}

export function emptyStats(): ServerStats {
  return {
    connections: 0,
    served: 0,
    servedBy: {},
    rejected: 0,
    udpReceived: 0,
    udpDropped: {},
    errors: {},
    acceptPaths: {},
    acceptFallbacks: {},
    udpPaths: {},
    proxyHeaders: {},
    proxyRefused: {},
  };
}

export function countError(stats: ServerStats, code: string | undefined, count = 1): void {
  const key = code ?? 'UNKNOWN';
  stats.errors[key] = (stats.errors[key] ?? 0) + count;
}

export function countServed(stats: ServerStats, key: string, count = 1): void {
  stats.served += count;
  stats.servedBy[key] = (stats.servedBy[key] ?? 0) + count;
}

export function copyStats(stats: ServerStats): ServerStats {
  return structuredClone(stats);
}
