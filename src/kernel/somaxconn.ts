import { readFileSync } from 'node:fs';

// The kernel silently clamps every listen() backlog to net.core.somaxconn (per network namespace).
// Undefined where /proc is absent (not Linux, or a sandbox without it).
export function readSomaxconn(path = '/proc/sys/net/core/somaxconn'): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface BacklogInfo {
  requested: number;
  // min(requested, somaxconn): what the kernel stores, and what `ss -lnt` shows as Send-Q.
  effective: number;
  somaxconn: number | undefined;
  clamped: boolean;
  // Linux queues backlog + 1 completed connections (sk_acceptq_is_full tests `>`, not `>=`).
  acceptQueueCapacity: number | undefined;
}

export function describeBacklog(requested: number, somaxconn = readSomaxconn()): BacklogInfo {
  const effective = somaxconn === undefined ? requested : Math.min(requested, somaxconn);
  return {
    requested,
    effective,
    somaxconn,
    clamped: effective < requested,
    acceptQueueCapacity: process.platform === 'linux' ? effective + 1 : undefined,
  };
}
