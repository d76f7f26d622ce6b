import { readSysctl } from './sysctl.ts';

// The kernel silently clamps every listen() backlog to net.core.somaxconn (per network namespace).
// Undefined where /proc is absent (not Linux, or a sandbox without it).
export function readSomaxconn(): number | undefined {
  return readSysctl('net.core.somaxconn');
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
