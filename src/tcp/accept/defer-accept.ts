import type { SocketCalls } from '../../kernel/socket-calls.ts';

const IPPROTO_TCP = 6;
const TCP_DEFER_ACCEPT = 9;

// How long the kernel holds a client that has sent nothing: one SYN-ACK retransmission (1 s), the
// shortest TCP_DEFER_ACCEPT can be. The kernel rounds longer ones up to its retransmissions (1, 3, 7,
// 15 s...), which a silent client would wait on top of --proxy-timeout.
export const DEFER_HOLD_MS = 1000;

// HAProxy's own `defer-accept`: the kernel completes the handshake but wakes the server only once the
// client has sent something, and a balancer sends its PROXY header with the connection, so by accept()
// the header is normally there to be read in one call. A client that sends nothing is held in the SYN
// queue (no descriptor of ours) for DEFER_HOLD_MS, then queued like any other, and the wait for its
// header is shortened by that much. Not set for a header timeout shorter than the hold; false where it
// cannot be set (the paths work without it).
export function deferAccept(calls: SocketCalls, fd: number, timeoutMs: number): boolean {
  if (timeoutMs < DEFER_HOLD_MS) return false;
  return calls.setIntOption(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, DEFER_HOLD_MS / 1000) === 0;
}
