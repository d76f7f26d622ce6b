import { getSystemErrorName } from 'node:util';
import { EAGAIN, EINTR, type NativeMemory, type SocketCalls } from '../../kernel/socket-calls.ts';
import { waitToWrite } from './libc-pending-write.ts';
import type { ConnectionHooks } from './types.ts';

type ReplyHooks = Pick<ConnectionHooks, 'reply' | 'served' | 'error' | 'closed' | 'pending'>;

const REPLY_ROOM = 512;

// The reply of the paths that call write(2) themselves: copied into native memory once a second (the
// reply changes once a second), written and the descriptor closed, or handed to the path that can wait
// when the kernel does not take it whole.
export class NativeReply {
  readonly #calls: SocketCalls;
  readonly #hooks: ReplyHooks;
  readonly #memory: NativeMemory;
  #source: Buffer | undefined;
  #length = 0;

  constructor(calls: SocketCalls, hooks: ReplyHooks) {
    this.#calls = calls;
    this.#hooks = hooks;
    this.#memory = calls.alloc(REPLY_ROOM);
  }

  // Writes the reply to an admitted connection and closes it (or leaves it to waitToWrite).
  send(fd: number): void {
    const calls = this.#calls;
    const hooks = this.#hooks;
    const reply = hooks.reply();
    if (reply !== this.#source) this.#set(reply);
    const length = this.#length;
    const written = calls.write(fd, this.#memory.address, length);
    if (written === length) {
      hooks.served();
      calls.close(fd);
      hooks.closed();
      return;
    }
    const errno = written < 0 ? calls.errno() : 0;
    if (written >= 0 || errno === EAGAIN || errno === EINTR) {
      waitToWrite(calls, hooks, fd, reply.subarray(Math.max(0, written)));
      return;
    }
    hooks.error(getSystemErrorName(-errno));
    calls.close(fd);
    hooks.closed();
  }

  #set(reply: Buffer): void {
    const bytes = reply.subarray(0, REPLY_ROOM);
    this.#memory.bytes.set(bytes);
    this.#length = bytes.length;
    this.#source = reply;
  }

  free(): void {
    this.#memory.free();
  }
}
