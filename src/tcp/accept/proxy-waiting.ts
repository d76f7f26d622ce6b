import type net from 'node:net';
import { readDescriptorUse } from '../../kernel/descriptors.ts';
import { formatHostPort, unmapIPv4 } from '../../net/address.ts';
import { headerKind, type ProxyHeader, parseProxyHeader, V2_MAX_LENGTH } from '../../protocol/proxy.ts';
import type { ConnectionHooks, ProxyRefusal, ProxyRequirement } from './types.ts';

// A balancer sends its header with the connection, so a connection that has waited this long without
// one is the first to go when too many wait; a younger one may simply not have been read yet.
export const GRACE_MS = 50;
// A v2 header with the usual TLVs, or any v1 line, in one read; a longer one is finished on a socket.
export const HEADER_ROOM = 536;

interface Waiting {
  accepted: number;
  deadline: number;
  received: Buffer;
}

// Connections admitted whose PROXY header is not whole yet, each on a net.Socket reading until it is
// (or until --proxy-timeout, counted as refused). The oldest waiter yields to make room: for a newer
// connection when too many wait, and for one with a whole header when --max-connections is reached.
// In a drain the waiters keep their own deadline.
export class HeaderTable {
  readonly #proxy: ProxyRequirement;
  readonly #hooks: ConnectionHooks;
  // Insertion order: the first entry has waited longest.
  readonly #waiting = new Map<net.Socket, Waiting>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(proxy: ProxyRequirement, hooks: ConnectionHooks) {
    this.#proxy = proxy;
    this.#hooks = hooks;
  }

  // 0: a connection can be taken now (evicting the longest waiting if need be); otherwise the ms until
  // the longest waiting one is past its grace.
  wait(): number {
    if (this.#waiting.size < this.#proxy.maxWaiting) return 0;
    const [oldest] = this.#waiting.values();
    return oldest ? Math.max(0, GRACE_MS - (Date.now() - oldest.accepted)) : 0;
  }

  // Admits a new connection: at --max-connections, the longest waiting one makes room first.
  admit(): boolean {
    // Nothing is made per connection unless one must go.
    if (this.#waiting.size > 0 && this.#hooks.full()) {
      const oldest = this.#waiting.keys().next().value;
      if (oldest) this.#refuse(oldest, 'evicted');
    }
    return this.#hooks.admit();
  }

  // An admitted connection with `received` of its header so far, held `heldMs` by the kernel already
  // (TCP_DEFER_ACCEPT), which counts against its --proxy-timeout.
  take(socket: net.Socket, received: Buffer = Buffer.alloc(0), heldMs = 0): void {
    const hooks = this.#hooks;
    if (this.#waiting.size >= this.#proxy.maxWaiting) {
      const [oldest] = this.#waiting.keys();
      if (oldest) this.#refuse(oldest, 'evicted');
    }
    const now = Date.now();
    const entry: Waiting = {
      accepted: now,
      deadline: now + Math.max(0, this.#proxy.timeoutMs - heldMs),
      received,
    };
    this.#waiting.set(socket, entry);
    this.#sweep ??= setInterval(() => this.#expire(), Math.max(10, Math.min(250, this.#proxy.timeoutMs / 4)));
    this.#sweep.unref();
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#waiting.delete(socket)) hooks.closed();
      hooks.error(error.code ?? 'UNKNOWN');
    });
    socket.on('end', () => {
      if (this.#waiting.has(socket))
        this.#refuse(socket, entry.received.length === 0 ? 'missing' : 'malformed');
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.#waiting.has(socket)) return;
      entry.received = Buffer.concat([entry.received, chunk]).subarray(0, V2_MAX_LENGTH);
      this.#read(socket, entry.received);
    });
    if (received.length > 0) this.#read(socket, received);
    if (this.#waiting.has(socket)) socket.resume();
  }

  // Connections the drain could not wait for: closed, and counted as refused.
  destroyAll(): void {
    for (const socket of [...this.#waiting.keys()]) this.#refuse(socket, 'shutdown');
  }

  #read(socket: net.Socket, received: Buffer): void {
    const parsed = parseProxyHeader(received);
    if (parsed.status === 'incomplete') return;
    if (parsed.status === 'invalid') {
      this.#refuse(socket, refusalOf(parsed.reason));
      return;
    }
    this.#waiting.delete(socket);
    this.#stopSweepWhenEmpty();
    socket.pause();
    // From here the socket's own 'close' ends it.
    socket.on('close', this.#hooks.closed);
    replyOnSocket(socket, parsed.header, this.#hooks);
  }

  #expire(): void {
    const now = Date.now();
    for (const [socket, entry] of this.#waiting) if (now >= entry.deadline) this.#refuse(socket, 'timeout');
  }

  #refuse(socket: net.Socket, reason: ProxyRefusal): void {
    if (!this.#waiting.delete(socket)) return;
    this.#stopSweepWhenEmpty();
    this.#hooks.refused(reason, () =>
      formatHostPort(unmapIPv4(socket.remoteAddress ?? ''), socket.remotePort ?? 0),
    );
    socket.destroy();
    this.#hooks.closed();
  }

  #stopSweepWhenEmpty(): void {
    if (this.#waiting.size > 0 || !this.#sweep) return;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

// What every PROXY path reports of a whole header: its kind (counted), and for the log line the client
// the header names, with the balancer that relayed it (the connection's own peer, read only when the
// line is on) as `via`; a LOCAL header, or a family other than TCP, is logged as a direct connection.
export function reportHeader(
  hooks: Pick<ConnectionHooks, 'header' | 'peer'>,
  header: ProxyHeader,
  direct: () => [string, number],
): void {
  hooks.header(headerKind(header));
  if (!hooks.peer) return;
  const [address, port] = direct();
  const client = header.command === 'PROXY' && header.source ? header.source : undefined;
  hooks.peer(client?.address ?? address, client?.port ?? port, client ? { address, port } : undefined);
}

// A parse failure as a refusal: no signature at all is a header missing, anything else malformed.
export const refusalOf = (reason: string): ProxyRefusal =>
  reason.startsWith('no PROXY') ? 'missing' : 'malformed';

// The reply once the header is whole, on a net.Socket: the log line names the client the header gave
// (and the balancer as `via`); a LOCAL header, or a family other than TCP, is answered as direct.
export function replyOnSocket(socket: net.Socket, header: ProxyHeader, hooks: ConnectionHooks): void {
  reportHeader(hooks, header, () => [socket.remoteAddress ?? '', socket.remotePort ?? 0]);
  let release: (() => void) | undefined;
  socket.write(hooks.reply(), (error) => {
    release?.();
    if (error) return;
    hooks.served();
    process.nextTick(() => socket.destroy());
  });
  if (socket.writableLength > 0) release = hooks.pending(() => socket.destroy());
}

// Connections that may wait for their PROXY header at once: half the descriptor limit, so a flood of
// clients that connect and say nothing leaves the other half for the server's own work and for the
// connections that do send a header.
export function maxWaitingForHeaders(): number {
  const limit = readDescriptorUse()?.limit;
  return limit === undefined || !Number.isFinite(limit) ? 1024 : Math.max(16, Math.floor(limit / 2));
}
