import { getSystemErrorName } from 'node:util';
import {
  EAGAIN,
  EINTR,
  type NativeMemory,
  type PollHandle,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  type SocketCalls,
} from '../../kernel/socket-calls.ts';
import { waitToWrite } from './libc-pending-write.ts';
import { PeerAddress } from './peer-address.ts';
import { type Acceptor, type AcceptPath, type ConnectionHooks, listenerFd } from './types.ts';

// Per connection, only what the C reference server (dtref) does: accept4, write, close. libuv signals
// that the listener is readable (a uv_poll on our own descriptor for it, registered once, so no epoll
// call per connection), and one call into JavaScript then accepts (under load until the queue is empty),
// writing the cached reply from native memory and closing each connection. No JavaScript object, no
// libuv handle and no epoll_ctl per connection. Linux with glibc or any libc koffi can load.
//
// Node binds and listens (its address handling, dual stack, SO_REUSEPORT, errors and socket activation
// stay as they are); the path then takes a duplicate of the listening descriptor and closes Node's. The
// socket itself stays open and listening through the duplicate, so nothing queued is lost.

const FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
const ECONNABORTED = 103;
const EPROTO = 71;
// After an accept() that failed for want of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM) or for a
// reason that would only repeat, libuv's readiness stays on (level-triggered) and the loop would spin:
// the path waits this long before it looks again. Connections wait in the kernel's queue meanwhile.
const PAUSE_MS = 100;
const REPLY_ROOM = 512;
// Readiness within this long after the last return is libuv coming straight back: more was queued.
// Measured here: 2-3 µs between readinesses under load, 40 µs or more between clients one at a time.
const BACK_TO_BACK_MS = 0.02;
const TO_BATCHES = 2;
const TO_SINGLE = 4;

export function libcPath(calls: SocketCalls): AcceptPath {
  return {
    name: 'libc',
    take(server, hooks) {
      const nodeFd = listenerFd(server);
      const fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
      if (fd < 0) return undefined;
      server.close();
      return new LibcAcceptor(calls, fd, hooks);
    },
  };
}

class LibcAcceptor implements Acceptor {
  readonly path = 'libc';
  readonly fd: number;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #reply: NativeMemory;
  readonly #peer: PeerAddress | undefined;
  readonly #poll: PollHandle;
  #replySource: Buffer | undefined;
  #replyLength = 0;
  #resume: NodeJS.Timeout | undefined;
  #closed = false;
  #single = true;
  #streak = 0;
  #lastReturn = 0;

  constructor(calls: SocketCalls, fd: number, hooks: ConnectionHooks) {
    this.fd = fd;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#reply = calls.alloc(REPLY_ROOM);
    this.#peer = hooks.peer ? new PeerAddress(calls) : undefined;
    this.#poll = calls.poll(fd, { readable: true }, this.#onReadable);
  }

  // One readiness of the listener. Under load the queue is drained until EAGAIN (one epoll wait serves a
  // batch); for clients that come one at a time the trailing accept4 that finds the queue empty only
  // adds to their latency (measured: p999 about 20 % higher, as with dtref), so then one connection is
  // taken per readiness, as libuv does. The mode follows the load: readiness again within
  // BACK_TO_BACK_MS of the last return means the queue was not empty; drains that find a single
  // connection mean it is.
  readonly #onReadable = (): void => {
    const now = performance.now();
    if (this.#single) {
      this.#streak = now - this.#lastReturn < BACK_TO_BACK_MS ? this.#streak + 1 : 0;
      if (this.#streak >= TO_BATCHES) {
        this.#single = false;
        this.#streak = 0;
      }
    }
    if (this.#single) this.#accept(1);
    else {
      this.#streak = this.#accept(Number.POSITIVE_INFINITY) <= 1 ? this.#streak + 1 : 0;
      if (this.#streak >= TO_SINGLE) {
        this.#single = true;
        this.#streak = 0;
      }
    }
    this.#lastReturn = performance.now();
  };

  // Accepts up to `limit` connections (or until the queue is empty); returns how many it took.
  #accept(limit: number): number {
    const calls = this.#calls;
    const hooks = this.#hooks;
    const peer = this.#peer;
    const listener = this.fd;
    let taken = 0;
    while (taken < limit) {
      let fd: number;
      if (peer) {
        peer.prepare();
        fd = calls.accept4(listener, peer.address, peer.lengthAddress, FLAGS);
      } else {
        fd = calls.accept4(listener, 0, 0, FLAGS);
      }
      if (fd < 0) {
        if (this.#acceptFailed(calls.errno())) continue;
        return taken;
      }
      taken++;
      if (!hooks.admit()) {
        calls.close(fd);
        continue;
      }
      if (peer) hooks.peer?.(...peer.read());
      const reply = hooks.reply();
      if (reply !== this.#replySource) this.#setReply(reply);
      const length = this.#replyLength;
      const written = calls.write(fd, this.#reply.address, length);
      if (written === length) {
        hooks.served();
        calls.close(fd);
        hooks.closed();
      } else {
        this.#writeFailed(fd, written, reply);
      }
    }
    return taken;
  }

  // True: go on accepting; false: stop until libuv signals again (or the pause ends).
  #acceptFailed(errno: number): boolean {
    if (errno === EAGAIN) return false;
    if (errno === EINTR) return true;
    // A connection reset while it waited in the queue: the kernel hands it over dead; the next one may
    // be fine.
    if (errno === ECONNABORTED || errno === EPROTO) {
      this.#hooks.error(getSystemErrorName(-errno));
      return true;
    }
    this.#hooks.acceptError(getSystemErrorName(-errno));
    this.#pause();
    return false;
  }

  #pause(): void {
    if (this.#closed || this.#resume) return;
    this.#poll.stop();
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (!this.#closed) this.#poll.start({ readable: true }, this.#onReadable);
    }, PAUSE_MS);
  }

  #writeFailed(fd: number, written: number, reply: Buffer): void {
    const errno = written < 0 ? this.#calls.errno() : 0;
    if (written >= 0 || errno === EAGAIN || errno === EINTR) {
      waitToWrite(this.#calls, this.#hooks, fd, reply.subarray(Math.max(0, written)));
      return;
    }
    this.#hooks.error(getSystemErrorName(-errno));
    this.#calls.close(fd);
    this.#hooks.closed();
  }

  #setReply(reply: Buffer): void {
    const bytes = reply.subarray(0, REPLY_ROOM);
    this.#reply.bytes.set(bytes);
    this.#replyLength = bytes.length;
    this.#replySource = reply;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#resume);
    this.#poll.close();
    this.#calls.close(this.fd);
    this.#peer?.free();
    this.#reply.free();
  }
}
