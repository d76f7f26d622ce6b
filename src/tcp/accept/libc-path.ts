import type net from 'node:net';
import { PolledSocket } from '../../kernel/polled-socket.ts';
import type { SocketCalls } from '../../kernel/socket-calls.ts';
import { ACCEPT_BATCH, acceptBatch, dupListeningFd } from './accept4.ts';
import { NativeReply } from './native-reply.ts';
import { PeerAddress } from './peer-address.ts';
import {
  type AcceptFallback,
  type Acceptor,
  type AcceptPath,
  type ConnectionHooks,
  cannotTake,
} from './types.ts';

// Per connection, only what the C reference server (dtref) does: accept4, write, close. libuv signals
// that the listener is readable (kernel/polled-socket.ts), and one call into JavaScript then accepts (under
// load until the queue is empty), writing the cached reply from native memory and closing each
// connection. No JavaScript object, no libuv handle and no epoll_ctl per connection. Linux with glibc
// or any libc koffi can load.

// Readiness within this long after the last return is libuv coming straight back: more was queued.
// Measured here: 2-3 µs between readinesses under load, 40 µs or more between clients one at a time.
const BACK_TO_BACK_MS = 0.02;
const TO_BATCHES = 2;
const TO_SINGLE = 4;

export function libcPath(calls: SocketCalls): AcceptPath {
  return { name: 'libc', take: (server, hooks) => LibcAcceptor.take(calls, server, hooks) };
}

class LibcAcceptor implements Acceptor {
  readonly path = 'libc';
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #reply: NativeReply;
  readonly #peer: PeerAddress | undefined;
  #listener: PolledSocket | undefined;
  #single = true;
  #streak = 0;
  #lastReturn = 0;

  static take(calls: SocketCalls, server: net.Server, hooks: ConnectionHooks): LibcAcceptor | AcceptFallback {
    const fd = dupListeningFd(calls, server);
    if (fd < 0) return cannotTake('libc', 'cannot take the listening socket');
    server.close();
    return new LibcAcceptor(calls, fd, hooks);
  }

  private constructor(calls: SocketCalls, fd: number, hooks: ConnectionHooks) {
    this.#calls = calls;
    this.#hooks = hooks;
    this.#reply = new NativeReply(calls, hooks);
    this.#peer = hooks.peer ? new PeerAddress(calls) : undefined;
    this.#listener = new PolledSocket(calls, fd, this.#onReadable);
  }

  get fd(): number | undefined {
    return this.#listener?.fd;
  }

  // One readiness of the listener. Under load up to ACCEPT_BATCH connections are taken (one epoll wait
  // serves a batch); for clients that come one at a time the trailing accept4 that finds the queue empty
  // only adds to their latency (measured: p999 about 20 % higher, as with dtref), so then one connection
  // is taken per readiness, as libuv does. The mode follows the load: readiness again within
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
      this.#streak = this.#accept(ACCEPT_BATCH) <= 1 ? this.#streak + 1 : 0;
      if (this.#streak >= TO_SINGLE) {
        this.#single = true;
        this.#streak = 0;
      }
    }
    this.#lastReturn = performance.now();
  };

  // Accepts up to `limit` connections (or until the queue is empty); returns how many it took.
  #accept(limit: number): number {
    const listener = this.#listener;
    if (!listener) return 0;
    const { taken, pauseMs } = acceptBatch(
      this.#calls,
      listener.fd,
      this.#peer,
      limit,
      this.#hooks,
      this.#connection,
    );
    if (pauseMs > 0) listener.pause(pauseMs);
    return taken;
  }

  // One connection: counted, logged, answered with write and close (or left to waitToWrite).
  readonly #connection = (fd: number): void => {
    const hooks = this.#hooks;
    if (!hooks.admit()) {
      this.#calls.close(fd);
      return;
    }
    if (this.#peer) hooks.peer?.(...this.#peer.read());
    this.#reply.send(fd);
  };

  async close(): Promise<void> {
    if (!this.#listener) return;
    this.#listener.close();
    this.#listener = undefined;
    this.#free();
  }

  #free(): void {
    this.#peer?.free();
    this.#reply.free();
  }
}
