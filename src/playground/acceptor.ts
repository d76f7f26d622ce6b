import type { PollHandle, SocketCalls } from '../kernel/socket-calls.ts';
import type { RawSocket } from '../lab/raw-socket.ts';
import type { AcceptRate } from './params.ts';

// Most connections taken in one readiness callback at 'max', so ticks and the app's requests still run.
const BATCH = 64;

// The serial server of the classic example, on the lab's raw listener: it waits in accept() (a uv_poll
// on the listening descriptor: readiness from the kernel, nothing polled by timer), takes one
// connection, spends 1/rate s on it, and only then accepts again. Rate 0 never calls accept(); 'max'
// takes everything the kernel has as soon as it has it.
export class Acceptor {
  readonly #listener: RawSocket;
  readonly #calls: SocketCalls;
  readonly #onAccepted: (fd: number) => void;
  #rate: AcceptRate;
  #poll: PollHandle | undefined;
  #polling = false;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(listener: RawSocket, calls: SocketCalls, rate: AcceptRate, onAccepted: (fd: number) => void) {
    this.#listener = listener;
    this.#calls = calls;
    this.#rate = rate;
    this.#onAccepted = onAccepted;
    this.#arm();
  }

  get rate(): AcceptRate {
    return this.#rate;
  }

  // A new rate applies at once: the time already spent on the last client counts toward the new one.
  setRate(rate: AcceptRate): void {
    this.#rate = rate;
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#poll?.close();
    this.#poll = undefined;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    const rate = this.#rate;
    if (rate === 0) {
      this.#listen(false);
      return;
    }
    if (rate !== 'max') {
      const readyAt = this.#lastAt + 1000 / rate;
      const wait = readyAt - performance.now();
      if (wait > 0) {
        this.#listen(false);
        this.#timer = setTimeout(() => this.#arm(), wait);
        return;
      }
    }
    this.#listen(true);
  }

  #listen(on: boolean): void {
    if (on === this.#polling) return;
    this.#polling = on;
    if (!on) {
      this.#poll?.stop();
      return;
    }
    if (this.#poll) this.#poll.start({ readable: true }, () => this.#readable());
    else this.#poll = this.#calls.poll(this.#listener.fd, { readable: true }, () => this.#readable());
  }

  #readable(): void {
    if (this.#closed) return;
    const limit = this.#rate === 'max' ? BATCH : 1;
    for (let i = 0; i < limit; i++) {
      let fd: number | undefined;
      try {
        fd = this.#listener.acceptOne();
      } catch {
        // A connection reset while it waited (ECONNABORTED): the next one may be fine.
        continue;
      }
      if (fd === undefined) break;
      this.#lastAt = performance.now();
      this.#onAccepted(fd);
    }
    // A serial server is busy with the client it took; libuv's readiness is level-triggered, so stop
    // asking until it is free again.
    if (this.#rate !== 'max') this.#arm();
  }
}
