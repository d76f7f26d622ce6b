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
// call per connection), and one call into JavaScript then accepts until the queue is empty (EAGAIN),
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

  constructor(calls: SocketCalls, fd: number, hooks: ConnectionHooks) {
    this.fd = fd;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#reply = calls.alloc(REPLY_ROOM);
    this.#peer = hooks.peer ? new PeerAddress(calls) : undefined;
    this.#poll = calls.poll(fd, { readable: true }, this.#drain);
  }

  // Accepts until the queue is empty. The hot loop of the whole server.
  readonly #drain = (): void => {
    const calls = this.#calls;
    const hooks = this.#hooks;
    const peer = this.#peer;
    const listener = this.fd;
    for (;;) {
      let fd: number;
      if (peer) {
        peer.prepare();
        fd = calls.accept4(listener, peer.address, peer.lengthAddress, FLAGS);
      } else {
        fd = calls.accept4(listener, 0, 0, FLAGS);
      }
      if (fd < 0) {
        if (this.#acceptFailed(calls.errno())) continue;
        return;
      }
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
  };

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
      if (!this.#closed) this.#poll.start({ readable: true }, this.#drain);
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
