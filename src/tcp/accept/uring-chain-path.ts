import type net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { REPLY_SEND_FLAGS } from '../../kernel/msg-flags.ts';
import { SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import { RING_ENTRIES } from '../../kernel/uring-loop.ts';
import { CHAIN, IOSQE_FIXED_FILE, prepAccept, prepClose, prepSend } from '../../kernel/uring-requests.ts';
import { errnoName, ringRefusal } from '../../kernel/uring-support.ts';
import type { UringSyscalls } from '../../kernel/uring-syscalls.ts';
import { dupListeningFd } from './accept4.ts';
import { waitToWrite } from './libc-pending-write.ts';
import { type Acceptor, type AcceptPath, type ConnectionHooks, cannotTake } from './types.ts';
import { ChainRing } from './uring-chain-ring.ts';
import { ChainReply } from './uring-slots.ts';
import { kindOf, slotOf, TAG, tagged } from './uring-tags.ts';

// The kernel serves the whole connection: per slot of the ring's direct descriptor table (uring-slots.ts)
// an accept into the slot, linked to a send of the reply from it, linked to a close of it. Only the close
// posts a completion, and JavaScript then counts the connection, logs it and arms the slot again: per
// connection three entries written into mapped memory and one completion read, no system call of its
// own and no descriptor in the process's table. Linux 6.8 (a reply that cannot go at once leaves its
// slot with IORING_OP_FIXED_FD_INSTALL for the path that can wait, under --write-timeout).
// Measured (bench/README.md): the C version of this chain, ../shared/perf/dtchain.c, costs 0.88x dturing.

// A send that cannot complete at once fails instead of waiting in the kernel, where no write timeout
// could reach it (MSG_DONTWAIT), and a short send is a failure too (MSG_WAITALL): its completion carries
// the bytes sent and the close does not run.
const SEND_FLAGS = REPLY_SEND_FLAGS;
// SOCK_CLOEXEC is refused (EINVAL) for an accept into a direct descriptor: it is in no descriptor table.
const ACCEPT_FLAGS = SOCK_NONBLOCK;
const { EAGAIN } = constants.errno;

export function uringChainPath(sys: UringSyscalls, calls: SocketCalls): AcceptPath {
  return { name: 'uring', take: (server, hooks) => ChainAcceptor.take(sys, calls, server, hooks) };
}

class ChainAcceptor implements Acceptor {
  readonly path = 'uring';
  readonly #core: ChainRing;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #reply: ChainReply;

  static take(sys: UringSyscalls, calls: SocketCalls, server: net.Server, hooks: ConnectionHooks) {
    const fd = dupListeningFd(calls, server);
    if (fd < 0) return cannotTake('uring', `cannot take the listening socket (${errnoName(calls.errno())})`);
    let acceptor: ChainAcceptor | undefined;
    const core = ChainRing.open(sys, calls, fd, hooks, {
      chain: (slot) => (acceptor ? acceptor.#chain(slot) : false),
      completed: (tag, result) => {
        if (acceptor) acceptor.#completed(tag, result);
      },
      round: () => {
        if (acceptor) acceptor.#reply.update(hooks.reply());
      },
    });
    if (!(core instanceof ChainRing)) {
      calls.close(fd);
      return cannotTake(
        'uring',
        core.errno < 0 ? core.reason : ringRefusal(sys, core.errno, RING_ENTRIES),
        core.code,
      );
    }
    acceptor = new ChainAcceptor(core, calls, hooks);
    server.close();
    core.start();
    return acceptor;
  }

  private constructor(core: ChainRing, calls: SocketCalls, hooks: ConnectionHooks) {
    this.#core = core;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#reply = new ChainReply(calls);
    this.#reply.update(hooks.reply());
  }

  get fd(): number {
    return this.#core.fd;
  }

  // Accept into `slot`, send from it, close it: one completion to come (the close's, or the failed one's).
  #chain(slot: number): boolean {
    const { ring } = this.#core.loop;
    const peer = this.#core.slots.peers?.[slot];
    if (!ring.reserve(3)) return false;
    peer?.prepare();
    prepAccept(ring, {
      fd: this.#core.fd,
      flags: ACCEPT_FLAGS,
      slot,
      address: peer?.address,
      lengthAddress: peer?.lengthAddress,
      tag: tagged(TAG.accept, slot),
      link: CHAIN,
    });
    const reply = this.#reply;
    prepSend(ring, {
      fd: slot,
      buffer: reply.address,
      length: reply.length,
      flags: SEND_FLAGS,
      tag: tagged(TAG.send, slot),
      link: IOSQE_FIXED_FILE | CHAIN,
    });
    prepClose(ring, { slot, tag: tagged(TAG.close, slot) });
    return true;
  }

  // The completions this path's chains post (the rest, ChainRing handles).
  #completed(tag: number, result: number): void {
    const slot = slotOf(tag);
    const core = this.#core;
    const hooks = this.#hooks;
    const kind = kindOf(tag);
    if (kind === TAG.close) {
      // Served: the send went whole and the close ran.
      this.#connection(slot);
      hooks.served();
      if (result < 0) hooks.error(getSystemErrorName(result));
      hooks.closed();
      core.settle(slot);
    } else if (kind === TAG.send) {
      // The send failed or was short; the socket is still in the slot.
      this.#connection(slot);
      const short = result >= 0 || result === -EAGAIN;
      if (short) core.handOver(slot, (fd) => this.#wait(fd, this.#reply.rest(result)));
      else {
        hooks.error(getSystemErrorName(result));
        hooks.closed();
        core.free(slot);
      }
    }
  }

  // Counted (always admitted: slots armed never exceed what --max-connections leaves) and logged.
  #connection(slot: number): void {
    const hooks = this.#hooks;
    hooks.admit();
    const peer = this.#core.slots.peers?.[slot];
    if (peer) hooks.peer?.(...peer.read());
  }

  // A reply that must wait, on its own descriptor now, under the service's write timeout.
  #wait(fd: number, rest: Buffer): void {
    waitToWrite(this.#calls, this.#core.waitingHooks, fd, rest);
  }

  close(): Promise<void> {
    return this.#core.close(() => this.#reply.free());
  }
}
