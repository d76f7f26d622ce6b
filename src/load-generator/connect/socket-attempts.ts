import net from 'node:net';
import { classify, type LoopConfig, noteRead, type ReplyTail, replyOutcome } from '../tally.ts';
import type { Attempt, Done, NewAttempt } from './attempt-loop.ts';

const READ_BUFFER = Buffer.allocUnsafe(1024);

// One connection on a net.Socket: Node's public API, the fallback. It is the socket itself and its
// handlers are shared functions called with `this` set to it: no closures and no second object per
// connection, which the load generator feels at 30,000 connections a second.
class SocketAttempt extends net.Socket implements Attempt, ReplyTail {
  readonly start = performance.now();
  readonly done: Done;
  readonly service: 'daytime' | 'time';
  bytes = 0;
  last = 0;
  secondLast = 0;

  constructor(config: LoopConfig, done: Done) {
    // onread with one shared buffer: no Buffer allocated per read, and no 'data' events.
    // allowHalfOpen: at EOF Node would otherwise shutdown() its side first, a syscall we close over anyway.
    super({ allowHalfOpen: true, onread: { buffer: READ_BUFFER, callback: onRead } });
    this.done = done;
    this.service = config.service;
    this.on('end', onEnd);
    this.on('error', onError);
    this.connect(config.port, config.address);
  }

  fail(outcome: Parameters<Done>[1]): void {
    this.destroy();
    this.done(this, outcome);
  }

  abandon(): void {
    this.destroy();
  }
}

function onRead(this: SocketAttempt, size: number, buffer: Uint8Array): boolean {
  noteRead(this, size, buffer);
  return true;
}

function onEnd(this: SocketAttempt): void {
  const outcome = replyOutcome(this.service, this);
  this.destroy();
  this.done(this, outcome);
}

function onError(this: SocketAttempt, error: NodeJS.ErrnoException): void {
  this.fail(classify(error.code));
}

export const socketAttempts =
  (config: LoopConfig): NewAttempt =>
  (done) =>
    new SocketAttempt(config, done);
