import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { EAGAIN, ECONNABORTED, EINTR, EPROTO, type SocketCalls } from '../../kernel/socket-calls.ts';
import { listenerFd } from './types.ts';

// What the accept paths that call accept4 themselves share: the listening descriptor taken over from
// Node, and what a failed accept4 means.
//
// Node binds and listens (its address handling, dual stack, SO_REUSEPORT, errors and socket activation
// stay as they are); the path then takes a duplicate of the listening descriptor and closes Node's. The
// socket itself stays open and listening through the duplicate, so nothing queued is lost.

// At most this many connections per readiness: libuv's poll is level-triggered, so what is left is
// taken on the next loop turn, after timers, signals and scrapes. Measured here (bench/README.md,
// "Accept batch"): 2,000 queued connections held the loop for 107 ms when taken in one go.
export const ACCEPT_BATCH = 64;

// A duplicate of the listening descriptor of `server`, or -1 where it cannot be had. The caller closes
// Node's server once it has taken over (the socket stays open through the duplicate).
export function dupListeningFd(calls: SocketCalls, server: net.Server): number {
  const nodeFd = listenerFd(server);
  return nodeFd === undefined ? -1 : calls.dup(nodeFd);
}

// What a failed accept4 means: `empty`, the queue is (stop until libuv signals again); `retry`, at
// once; `skipped`, a connection reset while it waited (counted, the next may be fine); otherwise the
// error's name, which only repeats if the loop goes on (EMFILE, ENFILE, ENOBUFS, ENOMEM...).
export function acceptFailure(errno: number): 'empty' | 'retry' | { skipped: string } | { failed: string } {
  if (errno === EAGAIN) return 'empty';
  if (errno === EINTR) return 'retry';
  const code = getSystemErrorName(-errno);
  return errno === ECONNABORTED || errno === EPROTO ? { skipped: code } : { failed: code };
}
