import type { NativeMemory, PollHandle, SocketCalls } from './socket-calls.ts';
import { ENTER_GETEVENTS, IOSQE_CQE_SKIP_SUCCESS, OP_READ, Ring } from './uring.ts';
import type { UringSyscalls } from './uring-syscalls.ts';

// A ring driven from Node's own event loop. The kernel signals an eventfd registered with the ring when
// the ring has work for this thread; libuv watches that eventfd (a uv_poll, registered once), and each
// readiness runs one round: enter the kernel to post what is ready, reap, let the handler queue more,
// enter again to submit it and post what is ready then, until nothing is queued. Under load a round
// goes on, each io_uring_enter submitting one batch and collecting the next. No thread of ours and no
// call into native code per request.
//
// epoll on the ring's own descriptor does not do: with DEFER_TASKRUN it reports only completions already
// posted, and nothing is posted outside io_uring_enter (measured on Linux 6.18). While a round runs the
// eventfd's signals are off (the round takes the work itself); at its end they are on again, and work
// that came in between is seen in the SQ ring's flags (TASKRUN_FLAG): no round is started for nothing,
// and none is missed (see #quiet). The eventfd's count is reset by a read the round's first io_uring_enter carries.

// A completion: the request's 64-bit user_data as two halves, its result (-errno on failure) and flags.
export type CompletionHandler = (dataLo: number, dataHi: number, result: number, flags: number) => void;

export interface RingLoopOptions {
  entries: number;
  // Completions handled per readiness at most: past it the round ends and Node's loop runs its timers,
  // signals and other sockets before the next one.
  budget: number;
}

const RETRY_MS = 10;
// The user_data of the loop's own requests (its eventfd reads); owners' kinds are small numbers.
const OWN = 0xffff_ffff;
const RWF_NOWAIT = 0x8;
const EAGAIN = 11;
const ETIME = 62;
// A round that has handled this many completions (two connections' worth) is under load: it waits up
// to LINGER_MS in the kernel for the next one instead of ending (it wakes at the first, so no reply
// waits for it). A lone client's round ends at once. 0.2 ms against 0.05 and 1 ms: the fewest system
// calls and the least CPU per connection in one run here (bench/README.md), within the noise of 1 ms.
const LINGER_AFTER = 4;
const LINGER_MS = 0.2;

export class RingLoop {
  readonly ring: Ring;
  readonly #calls: SocketCalls;
  readonly #eventfd: number;
  readonly #counter: NativeMemory;
  readonly #handler: CompletionHandler;
  readonly #budget: number;
  #poll: PollHandle | undefined;
  #retry: NodeJS.Timeout | undefined;
  #readByCall = false;
  #expected = 0;
  #closed = false;
  // Whether rounds turn the eventfd's signals off. Work that comes meanwhile must then show in the SQ
  // ring's flags before the kernel looks whether signals are off, and the kernel orders the two only
  // where its atomic_or is a full barrier (x86-64). Elsewhere, and without DEFER_TASKRUN (completions
  // posted by other threads), the signals stay on: a round more now and then, none missed.
  readonly #quiet: boolean;

  // Undefined where the ring or its eventfd cannot be had (the support check said yes: a descriptor
  // limit, memory).
  static open(
    sys: UringSyscalls,
    calls: SocketCalls,
    options: RingLoopOptions,
    handler: CompletionHandler,
  ): RingLoop | undefined {
    const ring = Ring.create(sys, options.entries);
    if (!(ring instanceof Ring)) return undefined;
    const eventfd = sys.eventfd();
    if (eventfd < 0 || ring.registerEventfd(eventfd) < 0) {
      if (eventfd >= 0) calls.close(eventfd);
      ring.close(calls.close);
      return undefined;
    }
    return new RingLoop(calls, ring, eventfd, handler, options.budget);
  }

  private constructor(
    calls: SocketCalls,
    ring: Ring,
    eventfd: number,
    handler: CompletionHandler,
    budget: number,
  ) {
    this.#calls = calls;
    this.ring = ring;
    this.#eventfd = eventfd;
    this.#counter = calls.alloc(8);
    this.#handler = handler;
    this.#budget = budget;
    this.#quiet = process.arch === 'x64' && ring.deferred;
    // The handle must stay reachable: koffi closes a poll handle that is garbage-collected.
    this.#poll = calls.poll(eventfd, { readable: true }, this.run);
  }

  // One round; also called directly by an owner that has queued requests and needs them in the kernel
  // now. Returns the completions handled.
  readonly run = (): number => {
    if (this.#closed) return 0;
    const ring = this.ring;
    // While the round runs, its own io_uring_enter calls take the ring's work: no signals meanwhile.
    if (this.#quiet) ring.eventfdSignals = false;
    this.#resetSignal();
    let budget = this.#budget;
    let entered = ring.enter(ENTER_GETEVENTS);
    while (entered >= 0) {
      const ready = Math.min(ring.ready(), budget);
      this.#reap(ready);
      budget -= ready;
      if (budget === 0) break;
      const busy = this.#budget - budget >= LINGER_AFTER;
      if (busy) {
        // Under load the next connection is microseconds away: one io_uring_enter submits what was
        // queued, collects its completions and waits, briefly, for the next, where returning to libuv
        // and being woken through the eventfd would take three system calls.
        entered = ring.enter(ENTER_GETEVENTS, this.#expected + 1, LINGER_MS);
        if (entered === -ETIME) entered = 0;
      } else if (ring.queued > 0) {
        entered = ring.enter(ENTER_GETEVENTS);
      }
      this.#expected = 0;
      if (ring.queued === 0 && ring.ready() === 0) {
        // Nothing came: the round ends, unless work came while the signals were off.
        if (this.#quiet) ring.eventfdSignals = true;
        if (!ring.taskWork() && ring.ready() === 0) return this.#budget - budget;
        if (this.#quiet) ring.eventfdSignals = false;
        entered = ring.enter(ENTER_GETEVENTS);
      }
    }
    if (ring.queued > 0 && entered >= 0) entered = ring.enter(0);
    if (this.#quiet) ring.eventfdSignals = true;
    // Past the budget, come back on the next turn of Node's loop, after its timers and other sockets; a
    // refused submission (EBUSY, EAGAIN: completions the kernel could not post yet), a little later.
    if (entered < 0 || ring.queued > 0) this.#later();
    else this.#signal();
    return this.#budget - budget;
  };

  // The owner queued `count` requests whose completions come at once (a send and its close): a wait for
  // the next event counts them in.
  expect(count: number): void {
    this.#expected += count;
  }

  #reap(count: number): void {
    const ring = this.ring;
    const handler = this.#handler;
    for (let i = 0; i < count; i++) {
      const lo = ring.dataLo(i);
      if (lo === OWN) {
        const result = ring.result(i);
        // A kernel whose eventfd cannot be read without waiting: read it with a system call instead.
        if (result < 0 && result !== -EAGAIN) this.#readByCall = true;
      } else {
        handler(lo, ring.dataHi(i), ring.result(i), ring.cqeFlags(i));
      }
    }
    ring.advance(count);
  }

  // Resets the eventfd whose signal started the round: a read that never waits, carried by the round's
  // first io_uring_enter, so the round costs no system call of its own for it.
  #resetSignal(): void {
    if (this.#readByCall) {
      this.#calls.read(this.#eventfd, this.#counter.address, 8);
      return;
    }
    this.ring.reserve(1);
    this.ring.push(
      OP_READ,
      IOSQE_CQE_SKIP_SUCCESS,
      this.#eventfd,
      this.#counter.address,
      8,
      RWF_NOWAIT,
      OWN,
      0,
    );
  }

  #signal(): void {
    this.#counter.view.setBigUint64(0, 1n, true);
    this.#calls.write(this.#eventfd, this.#counter.address, 8);
  }

  // The kernel refused the submission (EBUSY, EAGAIN: completions it could not post yet, memory): look
  // again shortly rather than spin.
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
    this.#poll?.close();
    this.#poll = undefined;
    this.ring.close(this.#calls.close);
    this.#calls.close(this.#eventfd);
    this.#counter.free();
  }
}
