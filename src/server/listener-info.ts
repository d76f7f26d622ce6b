import type { BacklogInfo } from '../kernel/somaxconn.ts';
import type { AcceptFallback, AcceptPathName } from './accept/types.ts';
import type { ServiceName } from './replies.ts';
import type { UdpPathName } from './udp/types.ts';

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
  // TCP only: how connections are taken (accept/choose.ts): uring, libc, handle or socket.
  acceptPath?: AcceptPathName;
  // With --accept auto: the faster path that could not run here, and why.
  acceptFallback?: AcceptFallback;
  // UDP only: how datagrams are read and answered (mmsg or dgram).
  udpPath?: UdpPathName;
}
