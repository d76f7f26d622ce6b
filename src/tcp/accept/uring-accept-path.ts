import type net from 'node:net';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { PAUSE_MS } from '../../kernel/polled-socket.ts';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import { CLOSE_WAIT_MS, RING_ENTRIES, RingLoop, URING_BUDGET } from '../../kernel/uring-loop.ts';
import {
  CANCEL_ALL,
  CANCEL_FD,
  IOSQE_CQE_SKIP_SUCCESS,
  prepAccept,
  prepCancel,
  prepClose,
} from '../../kernel/uring-requests.ts';
import { errnoName, ringRefusal } from '../../kernel/uring-support.ts';
import type { UringSyscalls } from '../../kernel/uring-syscalls.ts';
import { acceptBatch, acceptFailure, dupListeningFd } from './accept4.ts';
import { PeerAddress } from './peer-address.ts';
import { type Acceptor, type AcceptPath, type ConnectionHooks, cannotTake } from './types.ts';
import { UringReplies } from './uring-replies.ts';
import { kindOf, slotOf, TAG } from './uring-tags.ts';

// The connections of a listener taken through io_uring: the kernel accepts them, ACCEPTS single accepts
// in flight at once, each connection gets its reply as a send linked to a close (uring-replies.ts), and
// each accept is armed again when its completion is reaped. JavaScript queues requests and reaps
// completions in the ring's mapped memory; the kernel is entered once per batch each way
// (kernel/uring-loop.ts), where the libc path makes three system calls per connection.
//
// Why single accepts and not one multishot accept: a multishot accept takes every connection queued
// (up to the completion ring's 2,048 entries) into descriptors of this process before JavaScript has
// answered any; a worker killed then loses them all (884 of 2,000 queued clients in one run here). With
// ACCEPTS in flight, at most that many are accepted and not yet answered at any moment; the rest stay
// in the kernel's queue, where the next worker takes them.
// Node binds and listens; the path takes a duplicate of the listening descriptor (accept4.ts).

// An accept's tag: its kind (uring-tags.ts), its slot, and the generation of the accepts (bumped when the
// kernel dropped completions and every accept is armed anew).
const ACCEPT_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
// Single accepts in flight: what a killed worker can lose at most, and what one io_uring_enter can take.
export const ACCEPTS = 16;
const { ECANCELED } = constants.errno;
// An accept request takes the descriptor limit of when it was queued (the kernel reads RLIMIT_NOFILE
// once, when it prepares the request), so a limit changed at run time (prlimit) reaches the accepts
// only when they are queued again: the path looks once a second and queues them again.
const LIMIT_CHECK_MS = 1000;

const acceptTag = (slot: number, generation: number) => TAG.accept | (slot << 8) | (generation << 24);

export function uringAcceptPath(sys: UringSyscalls, calls: SocketCalls): AcceptPath {
  return {
    name: 'uring-accept',
    take: (server, hooks) => UringAcceptor.take(sys, calls, server, hooks),
  };
}

class UringAcceptor implements Acceptor {
  readonly path = 'uring-accept';
  readonly fd: number;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #loop: RingLoop;
  readonly #replies: UringReplies;
  // With the log line: an address buffer per slot and generation parity (an accept of the generation
  // before may complete after its slot is armed again).
  readonly #peers: PeerAddress[] | undefined;
  // Slots with no accept in flight.
  #idle: number[];
  #generation = 0;
  #resume: NodeJS.Timeout | undefined;
  readonly #limitCheck: NodeJS.Timeout;
  #fileLimit: number;
  #closing = false;
  #closed = false;

  static take(sys: UringSyscalls, calls: SocketCalls, server: net.Server, hooks: ConnectionHooks) {
    const fd = dupListeningFd(calls, server);
    if (fd < 0)
      return cannotTake('uring-accept', `cannot take the listening socket (${errnoName(calls.errno())})`);
    let acceptor: UringAcceptor | undefined;
    const loop = RingLoop.open(
      sys,
      calls,
      { entries: RING_ENTRIES, budget: URING_BUDGET },
      {
        completed: (tag, hi, result) => {
          if (acceptor) acceptor.#completed(tag, hi, result);
        },
        dropped: (count) => {
          if (acceptor) acceptor.#dropped(count);
        },
      },
    );
    if (!(loop instanceof RingLoop)) {
      calls.close(fd);
      return cannotTake('uring-accept', ringRefusal(sys, loop.errno, RING_ENTRIES), errnoName(loop.errno));
    }
    acceptor = new UringAcceptor(sys, calls, fd, hooks, loop);
    loop.wakeOn(fd);
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
    this.#peers = hooks.peer ? Array.from({ length: ACCEPTS * 2 }, () => new PeerAddress(calls)) : undefined;
    this.#idle = this.#allSlots();
  }

  #allSlots = () => Array.from({ length: ACCEPTS }, (_, slot) => slot);

  #peer(slot: number, generation: number): PeerAddress | undefined {
    return this.#peers?.[slot + (generation & 1) * ACCEPTS];
  }

  #completed(tag: number, fd: number, result: number): void {
    const kind = kindOf(tag);
    if (kind === TAG.send || kind === TAG.close) this.#replies.completed(kind, slotOf(tag), fd, result);
    else if (kind === TAG.accept) this.#accepted(slotOf(tag), tag >>> 24, result);
    // TAG.reject (a failed close of a refused connection) and TAG.cancel: nothing to do.
  }

  #accepted(slot: number, generation: number, result: number): void {
    const current = generation === this.#generation;
    // An accept of the generation before was written off when its generation ended.
    if (current) this.#idle.push(slot);
    if (result >= 0) {
      this.#connection(result, this.#peer(slot, generation));
    } else if (result !== -ECANCELED) {
      const failure = acceptFailure(-result);
      if (typeof failure === 'object' && 'failed' in failure) {
        // The accepts armed with it fail together (EMFILE...): one failure, one pause, as on the libc path.
        if (!this.#resume) this.#hooks.acceptError(failure.failed);
        this.#pause();
      } else if (typeof failure === 'object') {
        this.#hooks.error(failure.skipped);
      }
    }
    if (current && !this.#resume) this.#arm(false);
  }

  #connection(fd: number, peer: PeerAddress | undefined): void {
    if (!this.#hooks.admit()) {
      // Refused (--max-connections): closed unanswered, through the ring or at once.
      const queued = prepClose(this.#loop.ring, {
        fd,
        tag: TAG.reject,
        tagHi: fd,
        link: IOSQE_CQE_SKIP_SUCCESS,
      });
      if (!queued) this.#calls.close(fd);
      return;
    }
    if (peer) this.#hooks.peer?.(...peer.read());
    this.#replies.send(this.#loop, fd);
  }

  // Queues an accept for every idle slot (or `most` of them): submitted now, or by the round that is
  // running. A slot the ring has no room for stays idle and is armed by the next completion or a little
  // later.
  #arm(submit: boolean, most = ACCEPTS): void {
    if (this.#closing) return;
    const ring = this.#loop.ring;
    const generation = this.#generation;
    for (let armed = 0; armed < most && this.#idle.length > 0; armed++) {
      const slot = this.#idle.pop() as number;
      const peer = this.#peer(slot, generation);
      peer?.prepare();
      const queued = prepAccept(ring, {
        fd: this.fd,
        flags: ACCEPT_FLAGS,
        address: peer?.address,
        lengthAddress: peer?.lengthAddress,
        tag: acceptTag(slot, generation),
      });
      if (!queued) {
        this.#idle.push(slot);
        this.#pause(1);
        break;
      }
    }
    if (submit) ring.enter(0);
  }

  // The kernel dropped completions (its memory ran out while the completion ring was full): whether they
  // were accepts that ended is unknown. Cancel every accept, arm them all anew as the next generation,
  // and say so: the counts of connections whose completion was lost are off by as many.
  #dropped(count: number): void {
    this.#generation = (this.#generation + 1) & 0xff;
    this.#idle = this.#allSlots();
    this.#cancelAccepts(true);
    this.#hooks.acceptError(
      'EBADR',
      `io_uring dropped ${count} completion(s) (no memory to hold them): accepts armed again; the counts may be off by ${count}`,
    );
    this.#arm(false);
  }

  // No descriptor (or memory) for another connection: the clients wait in the kernel's queue, and after
  // the pause one accept tries again; the rest follow once it has taken a connection.
  #pause(ms = PAUSE_MS): void {
    if (this.#resume || this.#closing) return;
    this.#loop.pauseWake(ms);
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      this.#arm(true, ms === PAUSE_MS ? 1 : ACCEPTS);
    }, ms);
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
    this.#cancelAccepts();
    this.#loop.run();
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while (this.#idle.length < ACCEPTS && Date.now() < deadline) await sleep(1);
    this.#sweep();
    this.#loop.run();
    while (this.#replies.inFlight > 0 && Date.now() < deadline) await sleep(1);
    this.#free();
  }

  // Cancels every accept in flight on the listener; their completions (ECANCELED) arm them again unless
  // the path is closing. Where the ring has no room, the next round queues it.
  #cancelAccepts(always = false): void {
    if (!always && this.#idle.length === ACCEPTS) return;
    const ring = this.#loop.ring;
    if (
      !ring.reserve(1) ||
      !prepCancel(ring, { fd: this.fd, flags: CANCEL_FD | CANCEL_ALL, tag: TAG.cancel })
    ) {
      setTimeout(() => this.#cancelAccepts(always), PAUSE_MS).unref();
    }
  }

  // Connections the kernel queued after the accepts were cancelled, taken with accept4 as the libc path
  // does, and answered through the ring.
  #sweep(): void {
    const peer = this.#peers?.[0];
    acceptBatch(this.#calls, this.fd, peer, Number.POSITIVE_INFINITY, this.#hooks, (fd) =>
      this.#connection(fd, peer),
    );
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
