import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import {
  ACCEPT_MULTISHOT,
  CANCEL_ALL,
  CANCEL_FD,
  CQE_F_MORE,
  IOSQE_CQE_SKIP_SUCCESS,
  OP_ACCEPT,
  OP_ASYNC_CANCEL,
  OP_CLOSE,
} from '../../kernel/uring.ts';
import { RingLoop } from '../../kernel/uring-loop.ts';
import type { UringSyscalls } from '../../kernel/uring-syscalls.ts';
import { acceptFailure, PAUSE_MS } from './libc-listener.ts';
import { PeerAddress } from './peer-address.ts';
import { type Acceptor, type AcceptPath, type ConnectionHooks, listenerFd } from './types.ts';
import { KIND_CLOSE, KIND_SEND, UringReplies } from './uring-replies.ts';

// The connections of a listener taken through io_uring: the kernel accepts them (one multishot accept,
// or, when each connection's address is logged, single accepts with an address buffer each), and each
// gets its reply as a send linked to a close (uring-replies.ts). JavaScript queues requests and reaps
// completions in the ring's mapped memory; the kernel is entered once per batch each way
// (kernel/uring-loop.ts), where the libc path makes three system calls per connection.
// Node binds and listens; the path takes a duplicate of the listening descriptor, as libc-listener.ts.

const KIND_ACCEPT = 1;
const KIND_REJECT = 4;
const KIND_CANCEL = 5;
const ACCEPT_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
const ENTRIES = 1024;
// Completions handled per readiness; then Node's loop runs its timers, signals and other sockets (a
// metrics scrape) before the next batch. See bench/README.md for how it was chosen.
export const URING_BUDGET = 64;
// Single accepts in flight when each connection's address is needed.
const ADDRESS_SLOTS = 16;
// How long close() waits for the ring to finish what it holds (sends in flight, the cancelled accept).
const CLOSE_WAIT_MS = 2000;
const ECANCELED = 125;
// An accept request takes the descriptor limit of when it was queued (the kernel reads RLIMIT_NOFILE
// once, when it prepares the request), so a limit changed at run time (prlimit) reaches a multishot
// accept only when it is queued again: the path looks once a second and queues it again.
const LIMIT_CHECK_MS = 1000;

export function uringPath(sys: UringSyscalls, calls: SocketCalls): AcceptPath {
  return {
    name: 'uring',
    take: (server, hooks) => UringAcceptor.take(sys, calls, server, hooks),
  };
}

class UringAcceptor implements Acceptor {
  readonly path = 'uring';
  readonly fd: number;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #loop: RingLoop;
  readonly #replies: UringReplies;
  // With the log line: one address buffer per single accept (slot i + 1 in the request's tag; 0 is the
  // multishot accept).
  readonly #peers: PeerAddress[] | undefined;
  // Slots with no accept in flight.
  readonly #idle: number[];
  #resume: NodeJS.Timeout | undefined;
  readonly #limitCheck: NodeJS.Timeout;
  #fileLimit: number;
  #closing = false;
  #closed = false;

  static take(sys: UringSyscalls, calls: SocketCalls, server: net.Server, hooks: ConnectionHooks) {
    const nodeFd = listenerFd(server);
    const fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
    if (fd < 0) return undefined;
    let acceptor: UringAcceptor | undefined;
    const loop = RingLoop.open(
      sys,
      calls,
      { entries: ENTRIES, budget: URING_BUDGET },
      (lo, hi, result, flags) => {
        if (acceptor) acceptor.#completed(lo, hi, result, flags);
      },
    );
    if (!loop) {
      calls.close(fd);
      return undefined;
    }
    acceptor = new UringAcceptor(sys, calls, fd, hooks, loop);
    server.close();
    acceptor.#arm(true);
    return acceptor;
  }

  private constructor(
    sys: UringSyscalls,
    calls: SocketCalls,
    fd: number,
    hooks: ConnectionHooks,
    loop: RingLoop,
  ) {
    this.fd = fd;
    this.#fileLimit = sys.fileLimit();
    this.#limitCheck = setInterval(() => {
      const limit = sys.fileLimit();
      if (limit === this.#fileLimit) return;
      this.#fileLimit = limit;
      this.#cancelAccepts();
      this.#loop.run();
    }, LIMIT_CHECK_MS).unref();
    this.#calls = calls;
    this.#hooks = hooks;
    this.#loop = loop;
    this.#replies = new UringReplies(calls, hooks);
    this.#peers = hooks.peer
      ? Array.from({ length: ADDRESS_SLOTS }, () => new PeerAddress(calls))
      : undefined;
    this.#idle = this.#peers ? this.#peers.map((_, i) => i + 1) : [0];
  }

  #completed(dataLo: number, fd: number, result: number, flags: number): void {
    const kind = dataLo & 0xff;
    if (kind === KIND_SEND || kind === KIND_CLOSE) this.#replies.completed(kind, dataLo >>> 8, fd, result);
    else if (kind === KIND_ACCEPT) this.#accepted(dataLo >>> 8, result, flags);
    // KIND_REJECT (a failed close of a refused connection) and KIND_CANCEL: nothing to do.
  }

  #accepted(slot: number, result: number, flags: number): void {
    const ended = slot !== 0 || (flags & CQE_F_MORE) === 0;
    if (ended) this.#idle.push(slot);
    if (result >= 0) {
      this.#connection(result, slot);
    } else if (result !== -ECANCELED) {
      const failure = acceptFailure(-result);
      if (typeof failure === 'object' && 'failed' in failure) {
        this.#hooks.acceptError(failure.failed);
        this.#pause();
      } else if (typeof failure === 'object') {
        this.#hooks.error(failure.skipped);
      }
    }
    if (ended && !this.#resume) this.#arm(false);
  }

  #connection(fd: number, slot: number): void {
    const ring = this.#loop.ring;
    if (!this.#hooks.admit(this.#replies.inFlight)) {
      ring.reserve(1);
      ring.push(OP_CLOSE, IOSQE_CQE_SKIP_SUCCESS, fd, 0, 0, 0, KIND_REJECT, fd);
      return;
    }
    const peer = slot === 0 ? undefined : this.#peers?.[slot - 1];
    if (peer) this.#hooks.peer?.(...peer.read());
    this.#replies.send(this.#loop, fd);
  }

  // Queues an accept for every idle slot: submitted now, or by the round that is running.
  #arm(submit: boolean): void {
    if (this.#closing) return;
    const ring = this.#loop.ring;
    for (let slot = this.#idle.pop(); slot !== undefined; slot = this.#idle.pop()) {
      ring.reserve(1);
      const peer = slot === 0 ? undefined : this.#peers?.[slot - 1];
      if (peer) {
        peer.prepare();
        ring.push(
          OP_ACCEPT,
          0,
          this.fd,
          peer.address,
          0,
          ACCEPT_FLAGS,
          KIND_ACCEPT | (slot << 8),
          0,
          peer.lengthAddress,
        );
      } else {
        ring.push(OP_ACCEPT, 0, this.fd, 0, 0, ACCEPT_FLAGS, KIND_ACCEPT, 0, 0, ACCEPT_MULTISHOT);
      }
    }
    if (submit) ring.enter(0);
  }

  // No descriptor (or memory) for another connection: the clients wait in the kernel's queue.
  #pause(): void {
    if (this.#resume || this.#closing) return;
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      this.#arm(true);
    }, PAUSE_MS);
  }

  // The service has drained the kernel's queue (accepting through the ring) and stops taking
  // connections: cancel the accepts, serve what they had taken and whatever the kernel queued since,
  // wait until the ring holds nothing, then close it.
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#resume);
    this.#resume = undefined;
    clearInterval(this.#limitCheck);
    const armed = this.#peers ? ADDRESS_SLOTS : 1;
    this.#cancelAccepts();
    this.#loop.run();
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (this.#idle.length < armed && Date.now() < deadline) await sleep(1);
    this.#sweep();
    this.#loop.run();
    while (this.#replies.inFlight > 0 && Date.now() < deadline) await sleep(1);
    this.#free();
  }

  // Cancels every accept in flight on the listener; their completions (ECANCELED) arm them again unless
  // the path is closing.
  #cancelAccepts(): void {
    const ring = this.#loop.ring;
    if (this.#idle.length === (this.#peers ? ADDRESS_SLOTS : 1)) return;
    ring.reserve(1);
    ring.push(OP_ASYNC_CANCEL, 0, this.fd, 0, 0, CANCEL_FD | CANCEL_ALL, KIND_CANCEL, 0);
  }

  // Connections the kernel queued after the accepts were cancelled, taken with accept4 as the libc path
  // does, and answered through the ring.
  #sweep(): void {
    const calls = this.#calls;
    const peer = this.#peers?.[0];
    for (;;) {
      peer?.prepare();
      const fd = calls.accept4(this.fd, peer?.address ?? 0, peer?.lengthAddress ?? 0, ACCEPT_FLAGS);
      if (fd < 0) {
        const failure = acceptFailure(calls.errno());
        if (failure === 'retry' || (typeof failure === 'object' && 'skipped' in failure)) continue;
        return;
      }
      this.#connection(fd, peer ? 1 : 0);
    }
  }

  #free(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.close();
    this.#calls.close(this.fd);
    this.#replies.free();
    for (const peer of this.#peers ?? []) peer.free();
  }
}
