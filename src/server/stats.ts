export interface ServerStats {
  // Connections accepted from the kernel's queue.
  connections: number;
  // Connections whose full line was handed to the kernel.
  served: number;
  // Per-connection and accept errors, by code (ECONNRESET, EPIPE, EMFILE, ETIMEDOUT...).
  errors: Record<string, number>;
}

export function countError(stats: ServerStats, code: string | undefined): void {
  const key = code ?? 'UNKNOWN';
  stats.errors[key] = (stats.errors[key] ?? 0) + 1;
}
