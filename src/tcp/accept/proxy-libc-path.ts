import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { PolledSocket } from '../../kernel/polled-socket.ts';
import { EAGAIN, EINTR, type NativeMemory, type SocketCalls } from '../../kernel/socket-calls.ts';
import { formatHostPort, unmapIPv4 } from '../../net/address.ts';
import { trustsSockaddr } from '../../net/cidr.ts';
import { type ProxyHeader, parseProxyHeader } from '../../protocol/proxy.ts';
import { ACCEPT_BATCH, acceptBatch, dupListeningFd } from './accept4.ts';
import { DEFER_HOLD_MS, deferAccept } from './defer-accept.ts';
import { NativeReply } from './native-reply.ts';
import { PeerAddress } from './peer-address.ts';
import { HEADER_ROOM, HeaderTable, refusalOf, reportHeader } from './proxy-waiting.ts';
import {
  type AcceptFallback,
  type Acceptor,
  type AcceptPath,
  type ConnectionHooks,
  cannotTake,
  type ProxyRequirement,
} from './types.ts';

// Behind a balancer at the plain path's cost: per connection accept4 (with the peer's address, checked
// against --proxy-from without a string), one read of the header (TCP_DEFER_ACCEPT has the kernel wake
// us once it is there), the parse, write and close through libc; no JavaScript object and no libuv
// handle per connection. A header not whole at once goes to a net.Socket that can wait for the rest
// (proxy-waiting.ts). When too many wait, the listener pauses and new connections wait in the kernel.
export function proxyLibcPath(proxy: ProxyRequirement, calls: SocketCalls): AcceptPath {
  return { name: 'proxy-libc', take: (server, hooks) => ProxyLibcAcceptor.take(proxy, calls, server, hooks) };
}

class ProxyLibcAcceptor implements Acceptor {
  readonly path = 'proxy-libc';
  readonly #proxy: ProxyRequirement;
  readonly #calls: SocketCalls;
  readonly #hooks: ConnectionHooks;
  readonly #table: HeaderTable;
  readonly #reply: NativeReply;
  readonly #peer: PeerAddress;
  readonly #header: NativeMemory;
  #listener: PolledSocket | undefined;
  // How long a connection with nothing to read at accept was held by the kernel (TCP_DEFER_ACCEPT).
  readonly #held: number;

  static take(
    proxy: ProxyRequirement,
    calls: SocketCalls,
    server: net.Server,
    hooks: ConnectionHooks,
  ): ProxyLibcAcceptor | AcceptFallback {
    const fd = dupListeningFd(calls, server);
    if (fd < 0) return cannotTake('proxy-libc', 'cannot take the listening socket');
    server.close();
    return new ProxyLibcAcceptor(proxy, calls, fd, hooks);
  }

  private constructor(proxy: ProxyRequirement, calls: SocketCalls, fd: number, hooks: ConnectionHooks) {
    this.#proxy = proxy;
    this.#calls = calls;
    this.#hooks = hooks;
    this.#table = new HeaderTable(proxy, hooks);
    this.#reply = new NativeReply(calls, hooks);
    this.#peer = new PeerAddress(calls);
    this.#header = calls.alloc(HEADER_ROOM);
    this.#held = deferAccept(calls, fd, proxy.timeoutMs) ? DEFER_HOLD_MS : 0;
    this.#listener = new PolledSocket(calls, fd, this.#onReadable);
  }

  get fd(): number | undefined {
    return this.#listener?.fd;
  }

  readonly #onReadable = (): void => {
    const listener = this.#listener;
    if (!listener) return;
    const taken = acceptBatch(
      this.#calls,
      listener.fd,
      this.#peer,
      ACCEPT_BATCH,
      this.#hooks,
      this.#connection,
      () => this.#table.wait(),
    );
    if (taken.pauseMs > 0) listener.pause(taken.pauseMs);
  };

  // One connection: a peer outside --proxy-from is closed unread; the others are admitted and read.
  readonly #connection = (fd: number): void => {
    if (!trustsSockaddr(this.#proxy.trust, this.#peer.view)) {
      this.#calls.close(fd);
      this.#hooks.refused('untrusted', () => this.#peerText());
    } else if (!this.#table.admit()) {
      this.#calls.close(fd);
    } else {
      this.#read(fd);
    }
  };

  // The header, as far as it has arrived: whole (the usual case), partial, or not a header at all.
  #read(fd: number): void {
    const calls = this.#calls;
    const hooks = this.#hooks;
    const n = calls.read(fd, this.#header.address, HEADER_ROOM);
    if (n < 0) {
      const errno = calls.errno();
      if (errno === EAGAIN || errno === EINTR) this.#wait(fd, Buffer.alloc(0), this.#held);
      else {
        hooks.error(getSystemErrorName(-errno));
        calls.close(fd);
        hooks.closed();
      }
      return;
    }
    // The addresses are made into text only for the log line.
    const parsed = n === 0 ? undefined : parseProxyHeader(this.#header.bytes, n, hooks.peer !== undefined);
    if (parsed?.status === 'done') this.#answer(fd, parsed.header);
    else if (parsed?.status === 'incomplete') this.#wait(fd, Buffer.from(this.#header.bytes.subarray(0, n)));
    else {
      calls.close(fd);
      hooks.closed();
      hooks.refused(parsed ? refusalOf(parsed.reason) : 'missing', () => this.#peerText());
    }
  }

  #answer(fd: number, header: ProxyHeader): void {
    reportHeader(this.#hooks, header, () => this.#peer.read());
    this.#reply.send(fd);
  }

  #wait(fd: number, received: Buffer, heldMs = 0): void {
    this.#table.take(new net.Socket({ fd, readable: true, writable: true }), received, heldMs);
  }

  #peerText(): string {
    const [address, port] = this.#peer.read();
    return formatHostPort(unmapIPv4(address), port);
  }

  async close(): Promise<void> {
    if (!this.#listener) return;
    this.#listener.close();
    this.#listener = undefined;
    this.#free();
  }

  destroyAll(): void {
    this.#table.destroyAll();
  }

  #free(): void {
    this.#peer.free();
    this.#reply.free();
    this.#header.free();
  }
}
