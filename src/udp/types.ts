import type dgram from 'node:dgram';
import type { DropReason, ReplyLimiter } from './rate-limit.ts';

// The ways a UDP socket's datagrams can be read and answered, fastest first; `auto` picks the first
// that loads (accept/choose.ts, where the TCP accept paths are chosen too).
export const UDP_PATHS = ['mmsg', 'dgram'] as const;
export type UdpPathName = (typeof UDP_PATHS)[number];
export const UDP_CHOICES = ['auto', ...UDP_PATHS] as const;
export type UdpChoice = (typeof UDP_CHOICES)[number];

// What every UDP path tells the service, a batch at a time: the counting lives in the service and the
// limits in its one limiter, whatever the path.
export interface DatagramHooks {
  // The reply to send (cached for the current second).
  reply(): Buffer;
  // Applied to every datagram before it is answered.
  readonly limiter: ReplyLimiter;
  received(count: number): void;
  dropped(reason: DropReason, count: number): void;
  served(count: number): void;
  // Failed receives and sends, by code (EAGAIN: the send buffer was full; EINVAL: source port 0...).
  error(code: string, count: number): void;
}

// One bound UDP socket taken over by one path.
export interface UdpReader {
  readonly path: UdpPathName;
  // The socket's descriptor (for /proc and the drain's socket filter); undefined where not exposed.
  readonly fd: number | undefined;
  // Answers (within the limits) the datagrams already in the receive buffer, then closes the socket;
  // by the deadline at the latest. The service stops new datagrams from arriving first.
  drain(deadline: number): Promise<void>;
}

export interface UdpPath {
  readonly name: UdpPathName;
  // Takes over a socket Node has just bound, within its bind callback, so that Node has read nothing
  // yet; undefined (nothing changed) where this path cannot.
  take(socket: dgram.Socket, hooks: DatagramHooks): UdpReader | undefined;
}

// The descriptor libuv holds for a dgram socket (not a public API: lib/dgram.js keeps the UDPWrap
// under a symbol of its own, and UDPWrap has an `fd` getter on Unix).
export function udpSocketFd(socket: dgram.Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state && (socket as unknown as Record<symbol, { handle?: { fd?: number } }>)[state]?.handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
