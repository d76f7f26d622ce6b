import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { PAUSE_MS } from '../../kernel/polled-socket.ts';
import {
  EAGAIN,
  ECONNABORTED,
  EINTR,
  EPROTO,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  type SocketCalls,
} from '../../kernel/socket-calls.ts';
import type { PeerAddress } from './peer-address.ts';
import { type ConnectionHooks, listenerFd } from './types.ts';

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

const FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;

// The one accept4 loop (the libc path, the PROXY path over libc, and the uring path's sweep at close):
// up to `limit` connections from `listener`, each handed to `take` with `peer` (when given) holding its
// address. `ready` is asked before each accept: 0 to go on, or the ms to wait first (the PROXY path's
// table of waiting connections is full). Returns how many were taken, and how long the caller should
// stop asking for readiness: 0 when the queue is empty or the limit reached, PAUSE_MS when an accept
// failed for want of a resource (counted through acceptError), the wait `ready` asked for.
export function acceptBatch(
  calls: SocketCalls,
  listener: number,
  peer: PeerAddress | undefined,
  limit: number,
  hooks: Pick<ConnectionHooks, 'error' | 'acceptError'>,
  take: (fd: number) => void,
  ready: () => number = () => 0,
): { taken: number; pauseMs: number } {
  let taken = 0;
  while (taken < limit) {
    const wait = ready();
    if (wait > 0) return { taken, pauseMs: wait };
    peer?.prepare();
    const fd = calls.accept4(listener, peer?.address ?? 0, peer?.lengthAddress ?? 0, FLAGS);
    if (fd >= 0) {
      taken++;
      take(fd);
      continue;
    }
    const failure = acceptFailure(calls.errno());
    if (failure === 'empty') break;
    if (failure === 'retry') continue;
    if ('skipped' in failure) {
      hooks.error(failure.skipped);
      continue;
    }
    hooks.acceptError(failure.failed);
    return { taken, pauseMs: PAUSE_MS };
  }
  return { taken, pauseMs: 0 };
}
