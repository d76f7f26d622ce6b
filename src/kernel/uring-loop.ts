import { constants } from 'node:os';
import type { NativeMemory, PollHandle, SocketCalls } from './socket-calls.ts';
import { ENTER_GETEVENTS, Ring } from './uring.ts';
import { IOSQE_CQE_SKIP_SUCCESS, prepRead } from './uring-requests.ts';
import { takeRing } from './uring-spare.ts';
import type { UringSyscalls } from './uring-syscalls.ts';

// A ring driven from Node's own event loop. The kernel signals an eventfd registered with the ring when
// the ring has work for this thread; libuv watches that eventfd (a uv_poll, registered once), and each
// readiness runs one round: enter the kernel to post what is ready, reap, let the owner queue more,
// enter again to submit it and post what is ready then, until nothing is queued. Under load a round
// goes on, each io_uring_enter submitting one batch and collecting the next. No thread of ours and no
// call into native code per request.
//
// epoll on the ring's own descriptor does not do: with DEFER_TASKRUN it reports only completions already
// posted, and nothing is posted outside io_uring_enter (measured on Linux 6.18). The eventfd's count is
// reset by a read the round's first io_uring_enter carries.
//
// The eventfd is not always prompt: for work queued from the network's softirq (an accept whose
// connection arrived) the kernel may signal it through an RCU callback, one grace period later, and
// with CONFIG_RCU_LAZY a grace period took about 16 ms on this project's machine (Linux 6.18): a lone
// client waited 16 ms for every connection (250 a second). So an owner also names the descriptors its
// requests wait on (wakeOn: the listener), and their readiness, which epoll reports at once, starts a
// round too; the eventfd remains for completions no descriptor announces.

// What a ring's owner is told.
export interface RingOwner {
  // A completion: the request's 64-bit user_data as two halves, and its result (-errno on failure).
  completed(tag: number, tagHi: number, result: number): void;
  // The kernel dropped `count` completions (no memory to hold them while the ring was full): the owner
  // cannot know which requests ended, so it re-arms what it keeps armed and says so.
  dropped(count: number): void;
  // Before each round enters the kernel (where, with DEFER_TASKRUN, the ring's work runs): what the
  // requests read when they are issued (a reply buffer) is brought up to date here.
  round?(): void;
  // Under load, how many completions a wait in the kernel may gather before the round goes on (default
  // 1): where a completion only says work was done (the kernel already answered the client), waiting
  // for several costs no one anything and saves system calls.
  batch?(): number;
  // How long such a wait may last, in ms (default LINGER_MS).
  lingerMs?: number;
}

// Submission slots of a ring (twice as many completion slots): a round handles at most its budget of
// completions, each of which queues at most three requests (a send, a close, the next accept), and a
// full ring is submitted before more is queued. Small rings lock little memory (RLIMIT_MEMLOCK).
export const RING_ENTRIES = 256;
// Completions handled per readiness; then Node's loop runs its timers, signals and other sockets (a
// metrics scrape) before the next batch. See bench/README.md for how it was chosen.
export const URING_BUDGET = 64;
// How long an accept path's close() waits for its ring to finish what it holds (sends in flight, the
// cancelled accepts).
export const CLOSE_WAIT_MS = 2000;

export interface RingLoopOptions {
  entries: number;
  // Completions handled per readiness at most: past it the round ends and Node's loop runs its timers,
  // signals and other sockets before the next one.
  budget: number;
}

const RETRY_MS = 10;
// The user_data of the loop's own requests (its eventfd reads); owners' tags are small numbers.
const OWN = 0xffff_ffff;
const RWF_NOWAIT = 0x8;
const { EAGAIN, ETIME } = constants.errno;
// Linux's (asm-generic/errno.h), which Node's os.constants.errno lacks.
export const EBADR = 53;
// A round that has handled this many completions (two connections' worth) is under load: it waits up
// to LINGER_MS in the kernel for the next one instead of ending (it wakes at the first, so no reply
// waits for it). A lone client's round ends at once. 0.2 ms against 0.05 and 1 ms: the fewest system
// calls and the least CPU per connection in one run here (bench/README.md), within the noise of 1 ms.
const LINGER_AFTER = 4;
const LINGER_MS = 0.2;

// The eventfd's signals stay on while a round runs. An earlier version turned them off during a round and
// relied on the SQ ring's TASKRUN flag to see work that came meanwhile: that needs a full barrier on both
// sides (the kernel's atomic_or is one only on x86-64), and on Linux 6.18 the flag was seen to stay set
// with nothing to run after a burst of chains, so a round that trusted it never returned to Node's loop
// (timers, signals and scrapes starved while the kernel went on serving in the round's waits). With
// the signals on, work that comes during a round signals the eventfd (a round more, now and then) and
// a connection wakes the loop through its listener anyway (wakeOn); no flag is read. Measured beside
// the quiet rounds, in alternating rounds: no difference in CPU or system calls per connection within
// the noise of this machine.

export class RingLoop {
  readonly ring: Ring;
  readonly #calls: SocketCalls;
  readonly #eventfd: number;
  readonly #counter: NativeMemory;
  readonly #owner: RingOwner;
  readonly #budget: number;
  #poll: PollHandle | undefined;
  readonly #watched: PollHandle[] = [];
  #wakeResume: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #readByCall = false;
  #expected = 0;
  #dropped = 0;
  #closed = false;

  // The ring, or the errno that refused it (memory locked past RLIMIT_MEMLOCK: ENOMEM; descriptors).
  static open(
    sys: UringSyscalls,
    calls: SocketCalls,
    options: RingLoopOptions,
    owner: RingOwner,
  ): RingLoop | { errno: number } {
    const ring = takeRing(sys, options.entries);
    if (!(ring instanceof Ring)) return ring;
    const eventfd = sys.eventfd();
    const registered = eventfd < 0 ? -sys.errno() : ring.registerEventfd(eventfd);
    if (registered < 0) {
      if (eventfd >= 0) calls.close(eventfd);
      ring.close();
      return { errno: -registered };
    }
    return new RingLoop(calls, ring, eventfd, owner, options.budget);
  }

  private constructor(calls: SocketCalls, ring: Ring, eventfd: number, owner: RingOwner, budget: number) {
    this.#calls = calls;
    this.ring = ring;
    this.#eventfd = eventfd;
    this.#counter = calls.alloc(8);
    this.#owner = owner;
    this.#budget = budget;
    this.#dropped = ring.dropped();
    // The handle must stay reachable: koffi closes a poll handle that is garbage-collected.
    this.#poll = calls.poll(eventfd, { readable: true }, this.run);
  }

  // One round; also called directly by an owner that has queued requests and needs them in the kernel
  // now. Returns the completions handled. An owner's exception ends the round with the completions
  // handled so far handed back to the kernel (none is handled twice); the round after it comes a
  // little later.
  readonly run = (): number => {
    if (this.#closed) return 0;
    let handled = 0;
    let ended = false;
    try {
      handled = this.#round();
      ended = true;
    } finally {
      if (!ended) this.#later();
    }
    return handled;
  };

  #round(): number {
    const ring = this.ring;
    this.#owner.round?.();
    this.#resetSignal();
    let budget = this.#budget;
    let entered = this.#checked(ring.enter(ENTER_GETEVENTS));
    while (entered >= 0) {
      const ready = Math.min(ring.ready(), budget);
      this.#reap(ready);
      budget -= ready;
      if (budget === 0) break;
      if (this.#budget - budget >= LINGER_AFTER) {
        // Under load the next connection is microseconds away: one io_uring_enter submits what was
        // queued, collects its completions and waits, briefly, for the next, where returning to libuv
        // and being woken through the eventfd would take three system calls.
        const wanted = Math.max(this.#expected + 1, this.#owner.batch?.() ?? 1);
        entered = this.#checked(ring.enter(ENTER_GETEVENTS, wanted, this.#owner.lingerMs ?? LINGER_MS));
      } else if (ring.queued > 0) {
        entered = this.#checked(ring.enter(ENTER_GETEVENTS));
      }
      this.#expected = 0;
      // Nothing came: the round ends (what comes later signals the eventfd, or readies a listener).
      if (ring.queued === 0 && ring.ready() === 0) return this.#budget - budget;
    }
    if (ring.queued > 0 && entered >= 0) entered = this.#checked(ring.enter(0));
    // Past the budget, come back on the next turn of Node's loop, after its timers and other sockets; a
    // refused submission (EBUSY, EAGAIN: completions the kernel could not post yet), a little later.
    if (entered < 0 || ring.queued > 0) this.#later();
    else this.#signal();
    return this.#budget - budget;
  }

  // What io_uring_enter answered, once the owner has heard of any completion the kernel dropped: EBADR
  // (reported once, by the enter that waited) or the CQ ring's overflow counter having moved.
  #checked(entered: number): number {
    const dropped = this.ring.dropped();
    if (dropped !== this.#dropped || entered === -EBADR) {
      const count = Math.max(1, (dropped - this.#dropped) >>> 0);
      this.#dropped = dropped;
      this.#owner.dropped(count);
      if (entered === -EBADR) return 0;
    }
    return entered === -ETIME ? 0 : entered;
  }

  // Runs a round whenever `fd` is readable (level-triggered: while a listener has connections queued that
  // no accept in flight took yet, each turn of Node's loop runs one more round).
  wakeOn(fd: number): void {
    if (!this.#closed) this.#watched.push(this.#calls.poll(fd, { readable: true }, this.run));
  }

  // Stops waking on the watched descriptors for `ms`: while the owner will not take what a listener
  // holds (no descriptor left: EMFILE), its level-triggered readiness would run a round on every turn
  // of Node's loop, a core spinning for the whole pause. Completions still wake the loop.
  pauseWake(ms: number): void {
    if (this.#closed || this.#wakeResume) return;
    for (const watched of this.#watched) watched.stop();
    this.#wakeResume = setTimeout(() => {
      this.#wakeResume = undefined;
      if (!this.#closed) for (const watched of this.#watched) watched.start({ readable: true }, this.run);
    }, ms);
  }

  // The owner queued `count` requests whose completions come at once (a send and its close): a wait for
  // the next event counts them in.
  expect(count: number): void {
    this.#expected += count;
  }

  #reap(count: number): void {
    const ring = this.ring;
    const owner = this.#owner;
    let i = 0;
    try {
      for (; i < count; i++) {
        const tag = ring.dataLo(i);
        if (tag === OWN) {
          const result = ring.result(i);
          // A kernel whose eventfd cannot be read without waiting: read it with a system call instead.
          if (result < 0 && result !== -EAGAIN) this.#readByCall = true;
        } else {
          owner.completed(tag, ring.dataHi(i), ring.result(i));
        }
      }
    } finally {
      // Handled (the one that threw included) are handed back: never handled twice.
      ring.advance(Math.min(count, i + 1));
    }
  }

  // Resets the eventfd whose signal started the round: a read that never waits, carried by the round's
  // first io_uring_enter, so the round costs no system call of its own for it.
  #resetSignal(): void {
    const queued =
      !this.#readByCall &&
      prepRead(this.ring, {
        fd: this.#eventfd,
        buffer: this.#counter.address,
        length: 8,
        flags: RWF_NOWAIT,
        tag: OWN,
        link: IOSQE_CQE_SKIP_SUCCESS,
      });
    if (!queued) this.#calls.read(this.#eventfd, this.#counter.address, 8);
  }

  #signal(): void {
    this.#counter.view.setBigUint64(0, 1n, true);
    this.#calls.write(this.#eventfd, this.#counter.address, 8);
  }

  // Comes back shortly rather than spin: past a refused submission, or an owner's exception.
  #later(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.run();
    }, RETRY_MS);
  }

  // Closes the ring: the kernel cancels whatever is still in flight. Owners finish their work first.
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#wakeResume);
    this.#poll?.close();
    this.#poll = undefined;
    for (const watched of this.#watched.splice(0)) watched.close();
    this.ring.close();
    this.#calls.close(this.#eventfd);
    this.#counter.free();
  }
}
