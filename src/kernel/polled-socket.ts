import type { PollHandle, SocketCalls } from './socket-calls.ts';

// A descriptor this process owns, polled through libuv (a uv_poll registered once: readiness from Node's
// own loop, no epoll call per connection or datagram), that can stop asking for a while. What the TCP
// paths that call accept4 themselves and the UDP path that calls recvmmsg share.

// After a call that failed for want of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM) or for a reason that
// would only repeat, the paths wait this long before they look again.
export const PAUSE_MS = 100;

export class PolledSocket {
  readonly fd: number;
  readonly #calls: SocketCalls;
  readonly #onReadable: () => void;
  readonly #poll: PollHandle;
  #resume: NodeJS.Timeout | undefined;
  #closed = false;

  // Takes `fd` over: polled from now on, closed by close().
  constructor(calls: SocketCalls, fd: number, onReadable: () => void) {
    this.fd = fd;
    this.#calls = calls;
    this.#onReadable = onReadable;
    this.#poll = calls.poll(fd, { readable: true }, onReadable);
  }

  // libuv's readiness is level-triggered: while the caller cannot take what is there (no descriptor
  // left, no room for one more), it stops asking for `ms` and the work waits in the kernel's queue.
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
