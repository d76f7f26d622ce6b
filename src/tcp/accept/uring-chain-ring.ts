import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { PAUSE_MS } from '../../kernel/polled-socket.ts';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import { CLOSE_WAIT_MS, RING_ENTRIES, RingLoop, URING_BUDGET } from '../../kernel/uring-loop.ts';
import { CANCEL_ALL, CANCEL_FD, prepAccept, prepCancel } from '../../kernel/uring-requests.ts';
import { errnoName } from '../../kernel/uring-support.ts';
import type { UringSyscalls } from '../../kernel/uring-syscalls.ts';
import { acceptBatch, acceptFailure } from './accept4.ts';
import { NativeReply } from './native-reply.ts';
import type { ConnectionHooks } from './types.ts';
import { ChainSlots } from './uring-slots.ts';
import { kindOf, slotOf, TAG } from './uring-tags.ts';

// What the chain paths (uring-chain-path.ts, uring-proxy-path.ts) share: the ring and its slots, arming,
// the completions that are the same for both (a failed accept, a freed slot, a socket moved out of its
// slot, a refused connection), the dropped-completions repair and the drain. Each path says how a slot's
// chain is queued and handles the completions of its own chain.

export interface ChainOwner {
  // Queues the chain of `slot`; false when the ring has no room.
  chain(slot: number): boolean;
  completed(tag: number, result: number): void;
  round(): void;
}

const { ECANCELED } = constants.errno;
// A busy round's wait for closes: longer than uring-accept's 0.2 ms, since nothing waits on it (the
// clients were answered in the kernel). Measured beside 0.2 ms: fewer system calls per connection.
const CHAIN_LINGER_MS = 1;
const ACCEPT_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;

export class ChainRing {
  readonly fd: number;
  readonly loop: RingLoop;
  readonly slots: ChainSlots;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #owner: ChainOwner;
  // Per slot, what to do with the descriptor its socket is moved to.
  readonly #installed = new Map<number, { then: (fd: number) => void; holds: boolean }>();
  #refusing = false;
  #resume: NodeJS.Timeout | undefined;
  // What waits for #resume: arming, and a slot's free or hand-over that found the ring full.
  readonly #afterPause: (() => void)[] = [];
  #byCall: NativeReply | undefined;
  #closing = false;
  // Connections moved out of their slots end through these: their slots' capacity comes back.
  readonly waitingHooks: Pick<ConnectionHooks, 'pending' | 'served' | 'error' | 'closed'>;

  // The ring with a table of direct descriptors, or why not (an errno, or a reason when registering
  // the table was refused).
  static open(
    sys: UringSyscalls,
    calls: SocketCalls,
    fd: number,
    hooks: ConnectionHooks,
    owner: ChainOwner,
    peers = hooks.peer !== undefined,
  ) {
    let core: ChainRing | undefined;
    const loop = RingLoop.open(
      sys,
      calls,
      { entries: RING_ENTRIES, budget: URING_BUDGET },
      {
        completed: (tag, _hi, result) => {
          if (core) core.#completed(tag, result);
        },
        dropped: (count) => {
          if (core) core.#dropped(count);
        },
        round: () => owner.round(),
        // A close completion comes after the kernel has answered the client: gathering half the slots'
        // closes per wait keeps the other half armed and waits on no one.
        batch: () => (core ? Math.max(1, core.slots.armed >> 1) : 1),
        lingerMs: CHAIN_LINGER_MS,
      },
    );
    if (!(loop instanceof RingLoop)) return { errno: loop.errno, code: errnoName(loop.errno), reason: '' };
    const slots = new ChainSlots(calls, hooks.maxConnections, peers);
    const registered = loop.ring.registerSparseFiles(slots.count);
    if (registered < 0) {
      loop.close();
      slots.dispose();
      const name = `errno ${-registered}`;
      return {
        errno: -1,
        code: 'too-old',
        reason: `registering ${slots.count} direct descriptors failed (${name})`,
      };
    }
    core = new ChainRing(calls, fd, hooks, owner, loop, slots);
    return core;
  }

  private constructor(
    calls: SocketCalls,
    fd: number,
    hooks: ConnectionHooks,
    owner: ChainOwner,
    loop: RingLoop,
    slots: ChainSlots,
  ) {
    this.fd = fd;
    this.loop = loop;
    this.slots = slots;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#owner = owner;
    this.waitingHooks = {
      pending: hooks.pending,
      served: hooks.served,
      error: hooks.error,
      closed: () => {
        this.slots.waiting--;
        hooks.closed();
        this.arm();
      },
    };
  }

  // Arms every slot, and takes readiness from the listener too (kernel/uring-loop.ts: wakeOn).
  start(): void {
    this.loop.wakeOn(this.fd);
    this.arm();
    this.loop.ring.enter(0);
  }

  // Arms every slot that may be; with none (--max-connections taken by replies that wait), one plain
  // accept takes the next connection to refuse it, as the other paths do.
  arm(): void {
    if (this.#closing || this.#resume) return;
    for (let slot = this.slots.nextIdle(); slot >= 0; slot = this.slots.nextIdle()) {
      if (!this.#owner.chain(slot)) {
        this.#later(1);
        return;
      }
      this.slots.set(slot, 'armed');
    }
    if (this.slots.armed === 0 && this.slots.waiting > 0 && !this.#refusing) {
      const ring = this.loop.ring;
      this.#refusing =
        ring.reserve(1) && prepAccept(ring, { fd: this.fd, flags: ACCEPT_FLAGS, tag: TAG.refuse });
    }
  }

  // The slot is free again: arm it (or, past the limit, leave it idle until a waiting reply ends).
  settle(slot: number): void {
    this.slots.set(slot, 'idle');
    this.arm();
  }

  free(slot: number): void {
    if (!this.slots.free(this.loop.ring, slot)) this.#later(1, () => this.free(slot));
  }

  // The socket in `slot` must wait: moved into the descriptor table for `then`. A reply that waits counts
  // against the slots --max-connections leaves until it ends (waitingHooks.closed); a connection waiting
  // for its PROXY header does not (`holds` false): the header table makes room by evicting the oldest.
  handOver(slot: number, then: (fd: number) => void, holds = true): void {
    if (holds) this.slots.waiting++;
    this.#installed.set(slot, { then, holds });
    if (!this.slots.handOver(this.loop.ring, slot)) {
      if (holds) this.slots.waiting--;
      this.#installed.delete(slot);
      this.#later(1, () => this.handOver(slot, then, holds));
    }
  }

  #completed(tag: number, result: number): void {
    const kind = kindOf(tag);
    const slot = slotOf(tag);
    if (kind === TAG.accept) this.#acceptFailed(slot, result);
    else if (kind === TAG.free) this.settle(slot);
    else if (kind === TAG.install) this.#installedAt(slot, result);
    else if (kind === TAG.refuse) this.#refused(result);
    else if (kind !== TAG.cancel) this.#owner.completed(tag, result);
  }

  // An accept of a chain failed (and the rest of the chain with it): the slot is still empty.
  #acceptFailed(slot: number, result: number): void {
    // A slot being closed after dropped completions is settled by that close.
    if (!this.slots.is(slot, 'armed')) return;
    this.slots.set(slot, 'idle');
    if (result === -ECANCELED) {
      this.arm();
      return;
    }
    const failure = acceptFailure(-result);
    if (typeof failure === 'object' && 'failed' in failure) {
      if (!this.#resume) this.#hooks.acceptError(failure.failed);
      this.#later(PAUSE_MS);
      return;
    }
    if (typeof failure === 'object') this.#hooks.error(failure.skipped);
    this.arm();
  }

  #installedAt(slot: number, fd: number): void {
    const waiting = this.#installed.get(slot);
    this.#installed.delete(slot);
    if (fd >= 0) {
      waiting?.then(fd);
      return;
    }
    // Not moved (EMFILE: no descriptor for it): the slot's close ends the connection.
    this.#hooks.error(getSystemErrorName(fd));
    if (waiting?.holds === false) this.#hooks.closed();
    else this.waitingHooks.closed();
  }

  // The plain accept while --max-connections are open: refused unanswered unless room came meanwhile.
  #refused(fd: number): void {
    this.#refusing = false;
    if (fd >= 0) {
      if (!this.#hooks.admit()) this.#calls.close(fd);
      else {
        this.#byCall ??= new NativeReply(this.#calls, this.#hooks);
        this.#byCall.send(fd);
      }
    }
    this.arm();
  }

  // The kernel dropped completions: which slots ended is unknown. Every accept is cancelled and every
  // slot closed (a connection in one is lost, as the message says), then all are armed anew.
  #dropped(count: number): void {
    this.#hooks.acceptError(
      'EBADR',
      `io_uring dropped ${count} completion(s) (no memory to hold them): every slot closed and armed again`,
    );
    const ring = this.loop.ring;
    if (ring.reserve(1)) prepCancel(ring, { fd: this.fd, flags: CANCEL_FD | CANCEL_ALL, tag: TAG.cancel });
    for (let slot = 0; slot < this.slots.count; slot++) this.free(slot);
  }

  // Runs `then` after `ms` (or with the pause already pending), then arms: one timer, every request kept.
  // A slot's free or hand-over that found the ring full must not be lost to a pause that was already
  // waiting: the slot would stay busy for good, its connection held in the ring.
  #later(ms: number, then?: () => void): void {
    if (this.#closing) return;
    if (then) this.#afterPause.push(then);
    if (this.#resume) return;
    this.loop.pauseWake(ms);
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      for (const run of this.#afterPause.splice(0)) run();
      this.arm();
      this.loop.run();
    }, ms);
  }

  // The service drained the kernel's queue: cancel the accepts, let the chains in flight finish, hand
  // what came since (taken with accept4) to `take` (by default: the reply with write, and close), then
  // close the ring (and with it every direct descriptor).
  async close(free: () => void, take?: (fd: number) => void): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.slots.close();
    clearTimeout(this.#resume);
    const ring = this.loop.ring;
    if (ring.reserve(1)) prepCancel(ring, { fd: this.fd, flags: CANCEL_FD | CANCEL_ALL, tag: TAG.cancel });
    this.loop.run();
    const deadline = Date.now() + CLOSE_WAIT_MS;
    while ((this.slots.inUse > 0 || this.#refusing) && Date.now() < deadline) {
      await sleep(1);
      this.loop.run();
    }
    this.#byCall ??= new NativeReply(this.#calls, this.#hooks);
    const reply = this.#byCall;
    const answer = (fd: number) => {
      if (this.#hooks.admit()) reply.send(fd);
      else this.#calls.close(fd);
    };
    acceptBatch(this.#calls, this.fd, undefined, Number.POSITIVE_INFINITY, this.#hooks, take ?? answer);
    this.loop.close();
    this.#calls.close(this.fd);
    this.slots.dispose();
    this.#byCall.free();
    free();
  }
}
