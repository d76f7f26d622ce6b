import type { SocketCalls } from '../../kernel/socket-calls.ts';

const IPPROTO_TCP = 6;
const TCP_DEFER_ACCEPT = 9;

// HAProxy's own `defer-accept`: the kernel completes the handshake but wakes the server only once the
// client has sent something, and a balancer sends its PROXY header with the connection, so by accept()
// the header is normally there to be read in one call. A client that sends nothing is held in the SYN
// queue (no descriptor of ours) for up to `seconds`, then queued like any other. False where it cannot
// be set (the paths work without it).
export function deferAccept(calls: SocketCalls, fd: number, timeoutMs: number): boolean {
  return (
    calls.setIntOption(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, Math.max(1, Math.ceil(timeoutMs / 1000))) === 0
  );
}
