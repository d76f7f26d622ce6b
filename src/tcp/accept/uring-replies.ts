import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { REPLY_SEND_FLAGS } from '../../kernel/msg-flags.ts';
import type { NativeMemory, SocketCalls } from '../../kernel/socket-calls.ts';
import type { RingLoop } from '../../kernel/uring-loop.ts';
import { CHAIN, prepClose, prepSend } from '../../kernel/uring-requests.ts';
import { waitToWrite } from './libc-pending-write.ts';
import { NativeReply } from './native-reply.ts';
import type { ConnectionHooks } from './types.ts';
import { TAG } from './uring-tags.ts';

// Each connection's reply on the ring: a send linked to a close. The send posts no completion when it
// succeeds (IOSQE_CQE_SKIP_SUCCESS); the close posts one, and that completion is when the reply counts as
// served and the descriptor as closed, exactly. A send that fails or cannot complete at once posts its
// own completion, and the kernel then cancels the linked close without a completion of its own (a
// failed request with CQE_SKIP_SUCCESS skips its links' completions: measured on Linux 6.18), so the
// descriptor is closed here, or handed with the rest of the reply to the path that can wait
// (libc-pending-write.ts, under the service's write timeout).
//
// The reply of each second is copied once into native memory the sends point at. A copy stays until no
// send in flight uses it. Where the ring has no room for the pair (the kernel took none of what was
// queued: EBUSY, EAGAIN), the connection is answered at once with write(2) and close(2), as the libc path
// answers every connection: nothing is queued over a request not yet submitted.

// Sent with REPLY_SEND_FLAGS (msg-flags.ts says why): a reply that cannot go at once is handed back.
const SEND_FLAGS = REPLY_SEND_FLAGS;
const REPLY_ROOM = 512;
const { EAGAIN, ECANCELED } = constants.errno;

type ReplyHooks = Pick<ConnectionHooks, 'reply' | 'served' | 'error' | 'closed' | 'pending' | 'keep'>;

interface Copy {
  memory: NativeMemory;
  source: Buffer | undefined;
  length: number;
  // Chains in flight that send from this copy.
  users: number;
}

export class UringReplies {
  readonly #calls: SocketCalls;
  readonly #hooks: ReplyHooks;
  readonly #copies: Copy[] = [];
  #current = -1;
  #byCall: NativeReply | undefined;
  // Chains (send and close) queued whose completion has not come.
  inFlight = 0;

  constructor(calls: SocketCalls, hooks: ReplyHooks) {
    this.#calls = calls;
    this.#hooks = hooks;
  }

  // Queues the reply and the close for an accepted, admitted connection: one completion to come.
  send(loop: RingLoop, fd: number): void {
    const ring = loop.ring;
    if (!ring.reserve(2)) {
      this.#byCall ??= new NativeReply(this.#calls, this.#hooks);
      this.#byCall.send(fd);
      return;
    }
    const reply = this.#hooks.reply();
    let copy = this.#copies[this.#current];
    if (copy?.source !== reply) copy = this.#use(reply);
    const tag = this.#current << 8;
    const link = CHAIN;
    const buffer = copy.memory.address;
    prepSend(ring, {
      fd,
      buffer,
      length: copy.length,
      flags: SEND_FLAGS,
      tag: TAG.send | tag,
      tagHi: fd,
      link,
    });
    prepClose(ring, { fd, tag: TAG.close | tag, tagHi: fd });
    copy.users++;
    this.inFlight++;
    loop.expect(1);
    // On its way, as the libc path's write and close are: no longer open for --max-connections.
    this.#hooks.closed();
  }

  // A completion of TAG.send or TAG.close.
  completed(kind: number, index: number, fd: number, result: number): void {
    const copy = this.#copies[index] as Copy;
    copy.users--;
    this.inFlight--;
    const hooks = this.#hooks;
    if (kind === TAG.close) {
      if (result !== 0 && result !== -ECANCELED) hooks.error(getSystemErrorName(result));
      hooks.served();
      return;
    }
    // The send's own completion: it failed, or was short; the close did not run. A reply that must wait
    // is open again (within --max-connections) until waitToWrite ends it.
    const short = result >= 0 || result === -EAGAIN;
    if (short && hooks.keep()) {
      waitToWrite(this.#calls, hooks, fd, (copy.source as Buffer).subarray(Math.max(0, result), copy.length));
      return;
    }
    if (!short) hooks.error(getSystemErrorName(result));
    this.#calls.close(fd);
  }

  // The copy to send `reply` from: the first one no send uses any more, or a new one.
  #use(reply: Buffer): Copy {
    let index = this.#copies.findIndex((c, i) => c.users === 0 && i !== this.#current);
    if (index < 0) {
      index = this.#copies.length;
      this.#copies.push({ memory: this.#calls.alloc(REPLY_ROOM), source: undefined, length: 0, users: 0 });
    }
    const copy = this.#copies[index] as Copy;
    const bytes = reply.subarray(0, REPLY_ROOM);
    copy.memory.bytes.set(bytes);
    copy.length = bytes.length;
    copy.source = reply;
    this.#current = index;
    return copy;
  }

  free(): void {
    this.#byCall?.free();
    for (const copy of this.#copies) copy.memory.free();
    this.#copies.length = 0;
  }
}
