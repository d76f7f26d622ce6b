import net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { MSG_DONTWAIT, REPLY_SEND_FLAGS } from '../../kernel/msg-flags.ts';
import { type NativeMemory, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';
import { RING_ENTRIES } from '../../kernel/uring-loop.ts';
import {
  CHAIN,
  IOSQE_FIXED_FILE,
  prepAccept,
  prepClose,
  prepRecv,
  prepSend,
} from '../../kernel/uring-requests.ts';
import { errnoName, ringRefusal } from '../../kernel/uring-support.ts';
import type { UringSyscalls } from '../../kernel/uring-syscalls.ts';
import { formatHostPort, unmapIPv4 } from '../../net/address.ts';
import { trustsSockaddr } from '../../net/cidr.ts';
import { parseProxyHeader } from '../../protocol/proxy.ts';
import { dupListeningFd } from './accept4.ts';
import { DEFER_HOLD_MS, deferAccept } from './defer-accept.ts';
import { waitToWrite } from './libc-pending-write.ts';
import { HEADER_ROOM, HeaderTable, refusalOf, reportHeader } from './proxy-waiting.ts';
import {
  type Acceptor,
  type AcceptPath,
  type ConnectionHooks,
  cannotTake,
  type ProxyRequirement,
} from './types.ts';
import { ChainRing } from './uring-chain-ring.ts';
import { ChainReply } from './uring-slots.ts';
import { kindOf, slotOf, TAG, tagged } from './uring-tags.ts';

// Behind a balancer, on the ring: per slot an accept into the slot (with the peer's address) linked to a
// receive of the PROXY header from it. With TCP_DEFER_ACCEPT the header is there when the accept
// completes, so the receive completes at once: one completion per connection reaches JavaScript, which
// checks the sender against --proxy-from and parses the header (the strict parser of protocol/proxy.ts),
// then queues the reply's send linked to the slot's close, whose completion arms the slot again. A header
// not whole yet, like a reply that cannot go at once, leaves its slot for the descriptor table and the
// path that can wait (proxy-waiting.ts, under --proxy-timeout). Linux 6.8.

const SEND_FLAGS = REPLY_SEND_FLAGS;
// The receive never waits in the ring (a silent client would hold its slot): nothing there is EAGAIN.
const RECV_FLAGS = MSG_DONTWAIT;
const { EAGAIN } = constants.errno;

export function proxyUringPath(proxy: ProxyRequirement, sys: UringSyscalls, calls: SocketCalls): AcceptPath {
  return {
    name: 'proxy-uring',
    take: (server, hooks) => ProxyChainAcceptor.take(proxy, sys, calls, server, hooks),
  };
}

class ProxyChainAcceptor implements Acceptor {
  readonly path = 'proxy-uring';
  readonly #core: ChainRing;
  readonly #proxy: ProxyRequirement;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #reply: ChainReply;
  readonly #table: HeaderTable;
  readonly #headers: NativeMemory;
  // How long the kernel held a client that had sent nothing (TCP_DEFER_ACCEPT), against --proxy-timeout.
  readonly #held: number;

  static take(
    proxy: ProxyRequirement,
    sys: UringSyscalls,
    calls: SocketCalls,
    server: net.Server,
    hooks: ConnectionHooks,
  ) {
    const fd = dupListeningFd(calls, server);
    if (fd < 0)
      return cannotTake('proxy-uring', `cannot take the listening socket (${errnoName(calls.errno())})`);
    let acceptor: ProxyChainAcceptor | undefined;
    const core = ChainRing.open(
      sys,
      calls,
      fd,
      hooks,
      {
        chain: (slot) => (acceptor ? acceptor.#chain(slot) : false),
        completed: (tag, result) => {
          if (acceptor) acceptor.#completed(tag, result);
        },
        round: () => {
          if (acceptor) acceptor.#reply.update(hooks.reply());
        },
      },
      true,
    );
    if (!(core instanceof ChainRing)) {
      calls.close(fd);
      const reason = core.errno < 0 ? core.reason : ringRefusal(sys, core.errno, RING_ENTRIES);
      return cannotTake('proxy-uring', reason, core.code);
    }
    const held = deferAccept(calls, fd, proxy.timeoutMs) ? DEFER_HOLD_MS : 0;
    acceptor = new ProxyChainAcceptor(core, proxy, calls, hooks, held);
    server.close();
    core.start();
    return acceptor;
  }

  private constructor(
    core: ChainRing,
    proxy: ProxyRequirement,
    calls: SocketCalls,
    hooks: ConnectionHooks,
    held: number,
  ) {
    this.#core = core;
    this.#proxy = proxy;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#held = held;
    this.#reply = new ChainReply(calls);
    this.#reply.update(hooks.reply());
    this.#headers = calls.alloc(HEADER_ROOM * core.slots.count);
    this.#table = new HeaderTable(proxy, hooks);
  }

  get fd(): number {
    return this.#core.fd;
  }

  // Accept into `slot` (with the peer's address), then read what came with it: one completion.
  #chain(slot: number): boolean {
    const { ring } = this.#core.loop;
    const peer = this.#core.slots.peers?.[slot];
    if (!peer || !ring.reserve(2) || this.#table.wait() > 0) return false;
    peer.prepare();
    const { address, lengthAddress } = peer;
    // SOCK_CLOEXEC is refused (EINVAL) for an accept into a direct descriptor: it has no exec to outlive.
    const flags = SOCK_NONBLOCK;
    prepAccept(ring, {
      fd: this.fd,
      flags,
      slot,
      address,
      lengthAddress,
      tag: tagged(TAG.accept, slot),
      link: CHAIN,
    });
    const buffer = this.#headers.address + slot * HEADER_ROOM;
    const tag = tagged(TAG.recv, slot);
    prepRecv(ring, { fd: slot, buffer, length: HEADER_ROOM, flags: RECV_FLAGS, tag, link: IOSQE_FIXED_FILE });
    return true;
  }

  #completed(tag: number, result: number): void {
    const slot = slotOf(tag);
    const kind = kindOf(tag);
    if (kind === TAG.recv) this.#connection(slot, result);
    else if (kind === TAG.close) {
      this.#hooks.served();
      if (result < 0) this.#hooks.error(getSystemErrorName(result));
      this.#hooks.closed();
      this.#core.settle(slot);
    } else if (kind === TAG.send) {
      const short = result >= 0 || result === -EAGAIN;
      if (short)
        this.#core.handOver(slot, (fd) =>
          waitToWrite(this.#calls, this.#core.waitingHooks, fd, this.#reply.rest(result)),
        );
      else this.#drop(slot, getSystemErrorName(result));
    }
  }

  // One connection, with its header as far as it came with it.
  #connection(slot: number, n: number): void {
    const core = this.#core;
    const hooks = this.#hooks;
    const peer = core.slots.peers?.[slot];
    const text = () => (peer ? formatHostPort(unmapIPv4(peer.read()[0]), peer.read()[1]) : '');
    if (!peer || !trustsSockaddr(this.#proxy.trust, peer.view)) {
      hooks.refused('untrusted', text);
      core.free(slot);
      return;
    }
    if (!this.#table.admit()) {
      core.free(slot);
      return;
    }
    if (n < 0 && n !== -EAGAIN) {
      this.#drop(slot, getSystemErrorName(n));
      return;
    }
    const at = slot * HEADER_ROOM;
    const bytes = this.#headers.bytes;
    const parsed =
      n > 0 ? parseProxyHeader(bytes.subarray(at, at + n), n, hooks.peer !== undefined) : undefined;
    if (n === -EAGAIN || parsed?.status === 'incomplete') {
      const received = Buffer.from(bytes.subarray(at, at + Math.max(0, n)));
      const heldMs = n === -EAGAIN ? this.#held : 0;
      const wait = (fd: number) =>
        this.#table.take(new net.Socket({ fd, readable: true, writable: true }), received, heldMs);
      core.handOver(slot, wait, false);
      return;
    }
    if (parsed?.status !== 'done') {
      hooks.closed();
      hooks.refused(parsed ? refusalOf(parsed.reason) : 'missing', text);
      core.free(slot);
      return;
    }
    reportHeader(hooks, parsed.header, () => peer.read());
    this.#send(slot);
  }

  // The reply's send from the slot, linked to the slot's close (whose completion counts it served).
  #send(slot: number): void {
    const { ring } = this.#core.loop;
    if (!ring.reserve(2)) {
      this.#drop(slot, 'ENOBUFS');
      return;
    }
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
  }

  #drop(slot: number, code: string): void {
    this.#hooks.error(code);
    this.#hooks.closed();
    this.#core.free(slot);
  }

  destroyAll(): void {
    this.#table.destroyAll();
  }

  close(): Promise<void> {
    // Whatever came after the drain is read on a socket, as a header not whole at accept is.
    const take = (fd: number) => {
      if (this.#table.admit()) this.#table.take(new net.Socket({ fd, readable: true, writable: true }));
      else this.#calls.close(fd);
    };
    return this.#core.close(() => {
      this.#reply.free();
      this.#headers.free();
    }, take);
  }
}
