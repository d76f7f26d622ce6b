import type net from 'node:net';
import { getSystemErrorName } from 'node:util';
import {
  EAGAIN,
  ECONNABORTED,
  EINTR,
  EPROTO,
  type PollHandle,
  type SocketCalls,
} from '../../kernel/socket-calls.ts';
import { listenerFd } from './types.ts';

// At most this many connections per readiness: libuv's poll is level-triggered, so what is left is
// taken on the next loop turn, after timers, signals and scrapes. Measured here (bench/README.md,
// "Accept batch"): 2,000 queued connections held the loop for 107 ms when taken in one go.
export const ACCEPT_BATCH = 64;
// After an accept() that failed for want of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM) or for a
// reason that would only repeat, the paths wait this long before they look again.
export const PAUSE_MS = 100;

// What the accept paths that call accept4 themselves (libc, and proxy where koffi loads) share: the
// listening descriptor taken over from Node, libuv's readiness for it, and what a failed accept4 means.
//
// Node binds and listens (its address handling, dual stack, SO_REUSEPORT, errors and socket activation
// stay as they are); the path then takes a duplicate of the listening descriptor and closes Node's. The
// socket itself stays open and listening through the duplicate, so nothing queued is lost.
export class LibcListener {
  readonly fd: number;
  readonly #calls: SocketCalls;
  readonly #onReadable: () => void;
  readonly #poll: PollHandle;
  #resume: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(calls: SocketCalls, fd: number, onReadable: () => void) {
    this.fd = fd;
    this.#calls = calls;
    this.#onReadable = onReadable;
    // A uv_poll registered once: readiness from Node's own loop, no epoll call per connection.
    this.#poll = calls.poll(fd, { readable: true }, onReadable);
  }

  // Undefined (Node's server untouched) where the descriptor cannot be had.
  static take(calls: SocketCalls, server: net.Server, onReadable: () => void): LibcListener | undefined {
    const nodeFd = listenerFd(server);
    const fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
    if (fd < 0) return undefined;
    server.close();
    return new LibcListener(calls, fd, onReadable);
  }

  // libuv's readiness is level-triggered: while the caller cannot accept (no descriptor left, no room
  // for one more), it stops asking for `ms` and the connections wait in the kernel's queue.
  pause(ms: number): void {
    if (this.#closed || this.#resume) return;
    this.#poll.stop();
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (!this.#closed) this.#poll.start({ readable: true }, this.#onReadable);
    }, ms);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resume);
    this.#poll.close();
    this.#calls.close(this.fd);
  }
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
