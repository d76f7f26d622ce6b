import type net from 'node:net';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import { ACCEPT_BATCH, acceptFailure, LibcListener } from './libc-listener.ts';

const PAUSE_MS = 100;

export interface AcceptWhileRoom {
  // 0 when a connection may be taken now, else how many ms to leave them in the kernel's queue.
  wait(): number;
  socket(fd: number): void;
  error(code: string): void;
}

// Accepts through libc while the caller has room, and otherwise stops asking: the connections stay in
// the kernel's accept queue (no descriptor of ours) until room is made. Node's own accept cannot be
// paused, which is why the proxy path takes the listening descriptor over where koffi loads.
// Undefined (Node's server untouched) where the descriptor cannot be had.
export function acceptWhileRoom(
  calls: SocketCalls,
  server: net.Server,
  to: AcceptWhileRoom,
): LibcListener | undefined {
  const listener = LibcListener.take(calls, server, () => {
    for (let taken = 0; taken < ACCEPT_BATCH; ) {
      const wait = to.wait();
      if (wait > 0) return listener?.pause(wait);
      const client = calls.accept4(listener?.fd ?? -1, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0) {
        taken++;
        to.socket(client);
        continue;
      }
      const failure = acceptFailure(calls.errno());
      if (failure === 'empty') return;
      if (failure === 'retry' || 'skipped' in failure) continue;
      to.error(failure.failed);
      return listener?.pause(PAUSE_MS);
    }
  });
  return listener;
}
