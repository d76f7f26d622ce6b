import type { BacklogInfo } from '../kernel/somaxconn.ts';
import type { ServiceName } from '../protocol/replies.ts';

// Why a listener runs on a slower path than the fastest (io_uring where it could not be set up): the path
// not taken, a short code (a metric label: disabled, refused, too-old, ENOMEM...) and a sentence.
export interface PathFallback {
  path: string;
  code: string;
  reason: string;
}

// One listener's kernel queue, for metrics: where it listens, what waits, the backlog in force.
export interface ListenerSample {
  service: ServiceName;
  address: string;
  port: number;
  queued: number;
  backlog: number;
}

// What a listener reports once it is open: the services produce it, the log lines, the ready line, the
// stats and the metrics read it. Path names are the services' own (tcp/accept/types.ts, udp/types.ts).
export interface ListenerInfo {
  service: ServiceName;
  transport: 'tcp' | 'udp';
  address: string;
  port: number;
  family: string;
  // True when no host was given: `::` with IPv4 mapped in, or 0.0.0.0 without IPv6.
  allInterfaces: boolean;
  // True for a descriptor inherited from systemd.
  inherited: boolean;
  // TCP only: requested and effective backlog, somaxconn and the accept-queue capacity.
  backlog?: BacklogInfo;
  // TCP only: how connections are taken (tcp/accept/choose.ts): uring, uring-accept, libc, handle or socket.
  acceptPath?: string;
  // With --accept auto: the faster path that could not run here, and why.
  acceptFallback?: PathFallback;
  // UDP only: how datagrams are read and answered (mmsg or dgram).
  udpPath?: string;
}
