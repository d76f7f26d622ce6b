import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { classify, type LoopConfig, noteRead, type Outcome, type ReplyTail, replyOutcome } from '../tally.ts';
import type { Attempt, Done, NewAttempt } from './attempt-loop.ts';
import { type FastConnect, type RawHandle, startConnect } from './handle-internals.ts';

const READ_BUFFER = Buffer.allocUnsafe(1024);

// One connection on a bare TCP handle (handle-internals.ts): the handle is the attempt, its onread a
// shared function, and a read's bytes land in the thread's one buffer.
export function handleAttempts(fast: FastConnect, config: LoopConfig): NewAttempt {
  const target = { address: config.address, port: config.port, ipv6: net.isIPv6(config.address) };
  const { service } = config;
  class RawAttempt extends fast.TCP implements Attempt, ReplyTail {
    readonly start = performance.now();
    readonly done: Done;
    ended = false;
    bytes = 0;
    last = 0;
    secondLast = 0;

    constructor(done: Done) {
      super(fast.socketType);
      this.done = done;
      this.onread = onRawRead;
      this.useUserBuffer(READ_BUFFER);
      const status = startConnect(fast, this, target, afterConnect);
      // Failed before any request was made: report it on the next tick, once the loop holds it.
      if (status < 0) process.nextTick(() => this.fail(classify(getSystemErrorName(status))));
    }

    fail(outcome: Outcome): void {
      if (this.abandon()) this.done(this, outcome);
    }

    // True when this call closed it.
    abandon(): boolean {
      if (this.ended) return false;
      this.ended = true;
      this.close();
      return true;
    }
  }
  function afterConnect(status: number, handle: RawHandle): void {
    const attempt = handle as RawAttempt;
    if (status < 0) attempt.fail(classify(getSystemErrorName(status)));
    else {
      const error = attempt.readStart();
      if (error < 0) attempt.fail(classify(getSystemErrorName(error)));
    }
  }
  function onRawRead(this: RawHandle): void {
    const attempt = this as RawAttempt;
    const size = fast.readResult();
    if (size > 0) noteRead(attempt, size, READ_BUFFER);
    else if (size === fast.eof) {
      attempt.fail(replyOutcome(service, attempt));
    } else if (size < 0) {
      attempt.fail(classify(getSystemErrorName(size)));
    }
  }
  return (done) => new RawAttempt(done);
}
