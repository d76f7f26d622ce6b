import type { NativeMemory, PollHandle, SocketCalls } from './socket-calls.ts';
import { ENTER_GETEVENTS, Ring } from './uring.ts';
import type { UringSyscalls } from './uring-syscalls.ts';

// A ring driven from Node's own event loop. The kernel signals an eventfd registered with the ring when
// the ring has work for this thread; libuv watches that eventfd (a uv_poll, registered once), and each
// readiness runs one round: enter the kernel to post what is ready, reap, let the handler queue more,
// enter again to submit it, until nothing more is queued. No thread of ours and no call into native code
// per request: one io_uring_enter per batch each way.
//
// With DEFER_TASKRUN each io_uring_enter(GETEVENTS) runs one pass of the ring's pending work; work that
// a pass creates (the close linked to a send) signals the eventfd again, so it is never left behind.
// epoll on the ring's own descriptor does not do: it reports completions already posted, and with
// DEFER_TASKRUN nothing is posted outside io_uring_enter (measured on Linux 6.18).

// A completion: the request's 64-bit user_data as two halves, its result (-errno on failure) and flags.
export type CompletionHandler = (dataLo: number, dataHi: number, result: number, flags: number) => void;

export interface RingLoopOptions {
  entries: number;
  // Completions handled per readiness at most: past it the round ends and Node's loop runs its timers,
  // signals and other sockets before the next one.
  budget: number;
}

const RETRY_MS = 10;

export class RingLoop {
  readonly ring: Ring;
  readonly #calls: SocketCalls;
  readonly #eventfd: number;
  readonly #counter: NativeMemory;
  readonly #handler: CompletionHandler;
  readonly #budget: number;
  #poll: PollHandle | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

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
    // The handle must stay reachable: koffi closes a poll handle that is garbage-collected.
    this.#poll = calls.poll(eventfd, { readable: true }, this.run);
  }

  // One round; also called directly by an owner that has queued requests and needs them in the kernel
  // now. Returns the completions handled.
  readonly run = (): number => {
    if (this.#closed) return 0;
    const ring = this.ring;
    const handler = this.#handler;
    // Reset the eventfd first: work that arrives from here on signals it again.
    this.#calls.read(this.#eventfd, this.#counter.address, 8);
    let budget = this.#budget;
    let handled = 0;
    let entered = ring.enter(ENTER_GETEVENTS);
    for (;;) {
      let ready = ring.ready();
      if (ready === 0) break;
      if (ready > budget) ready = budget;
      for (let i = 0; i < ready; i++)
        handler(ring.dataLo(i), ring.dataHi(i), ring.result(i), ring.cqeFlags(i));
      ring.advance(ready);
      handled += ready;
      budget -= ready;
      if (ring.queued === 0 && ring.ready() === 0) break;
      if (budget === 0) {
        // Come back on the next turn of Node's loop, after its timers and other sockets.
        if (ring.queued > 0) entered = ring.enter(0);
        this.#signal();
        break;
      }
      entered = ring.enter(ENTER_GETEVENTS);
    }
    if (entered < 0 || ring.queued > 0) this.#later();
    return handled;
  };

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
