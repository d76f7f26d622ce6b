import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromSystemError } from '../errors.ts';
import { readBacklogOfInode } from '../kernel/listen-queue.ts';
import { acceptQueueLength, socketInode } from '../kernel/proc-net.ts';
import { refuseNewConnections } from '../kernel/socket-filter.ts';
import { describeBacklog, readSomaxconn } from '../kernel/somaxconn.ts';
import { formatHostPort, unmapIPv4 } from '../net/address.ts';
import { type FastAcceptHooks, installFastAccept } from './fast-accept.ts';
import type { ListenerInfo } from './listener-info.ts';
import type { ServerLogger } from './logger.ts';
import type { ReplyClock, ServiceName } from './replies.ts';
import { countError, countServed, type ServerStats } from './stats.ts';

export interface TcpServiceOptions {
  service: ServiceName;
  clock: ReplyClock;
  stats: ServerStats;
  host: string | undefined;
  port: number;
  backlog: number;
  // An inherited listening descriptor (socket activation) instead of host and port.
  fd?: number;
  reusePort: boolean;
  maxConnections: number | undefined;
  writeTimeoutMs: number;
  // Take accepted connections as raw handles (see fast-accept.ts); false: Node's net.Socket path.
  fastAccept: boolean;
  logger: ServerLogger | undefined;
  logConnections: boolean;
}

const ERROR_LOG_INTERVAL_MS = 1000;
const destroySocket = (socket: net.Socket) => socket.destroy();

// One TCP listener for one service: accept, send the reply, close.
export class TcpService {
  readonly #options: TcpServiceOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #servedKey: string;
  // Fast path only: open connections (for --max-connections) and writes waiting to complete.
  readonly #pending = new Map<() => void, number>();
  #open = 0;
  #sweeper: NodeJS.Timeout | undefined;
  #fast = false;
  #lastErrorLog = 0;

  constructor(options: TcpServiceOptions) {
    this.#options = options;
    this.#servedKey = `${options.service}/tcp`;
    this.#server = net.createServer({ pauseOnConnect: true }, (socket) => this.#onConnection(socket));
    if (options.maxConnections !== undefined) this.#server.maxConnections = options.maxConnections;
    // Node accepts, then closes connections over maxConnections; count them.
    this.#server.on('drop', () => {
      options.stats.rejected++;
    });
    // Once listening, an 'error' is an accept() failure (EMFILE, ENFILE...). It must not end the server.
    this.#server.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#server.listening) this.#onAcceptError(error);
    });
  }

  async listen(): Promise<ListenerInfo> {
    const { host, port, fd, reusePort } = this.#options;
    let backlog = this.#options.backlog;
    if (fd !== undefined) {
      // Node calls listen() again on an inherited descriptor, with 511 unless told otherwise, which
      // would silently replace the socket unit's Backlog=. Ask the kernel what the unit set.
      const inode = socketInode(fd);
      backlog = (inode === undefined ? undefined : await readBacklogOfInode(inode)) ?? readSomaxconn() ?? 511;
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const where =
          fd !== undefined ? `fd ${fd}` : host === undefined ? `port ${port}` : formatHostPort(host, port);
        const hint =
          error.code === 'EACCES' && port < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : '';
        reject(fromSystemError(error, `cannot listen on ${where}`, hint));
      };
      this.#server.once('error', onError);
      const done = () => {
        this.#server.off('error', onError);
        resolve();
      };
      // The backlog goes positionally: with { fd }, Node ignores options.backlog.
      if (fd !== undefined) this.#server.listen({ fd }, backlog, done);
      else this.#server.listen({ host, port, backlog, reusePort: reusePort || undefined }, done);
    });
    this.#fast = this.#options.fastAccept && installFastAccept(this.#server, this.#fastHooks());
    const address = this.#server.address() as net.AddressInfo;
    return {
      service: this.#options.service,
      transport: 'tcp',
      address: address.address,
      port: address.port,
      family: address.family,
      allInterfaces: host === undefined && fd === undefined,
      inherited: fd !== undefined,
      backlog: describeBacklog(backlog),
      fastAccept: this.#fast,
    };
  }

  #fastHooks(): FastAcceptHooks {
    const { stats, clock, service, maxConnections } = this.#options;
    return {
      reply: () => clock.reply(service),
      admit: () => {
        stats.connections++;
        if (maxConnections !== undefined && this.#open >= maxConnections) {
          stats.rejected++;
          return false;
        }
        this.#open++;
        return true;
      },
      served: () => countServed(stats, this.#servedKey),
      error: (code) => countError(stats, code),
      acceptError: (code) => this.#onAcceptError(Object.assign(new Error(`accept ${code}`), { code })),
      peer: this.#options.logConnections ? (address, port) => this.#logPeer(address, port) : undefined,
      pending: (close) => {
        this.#pending.set(close, Date.now() + this.#options.writeTimeoutMs);
        this.#sweeper ??= setInterval(
          () => this.#sweep(),
          Math.min(1000, this.#options.writeTimeoutMs),
        ).unref();
        return () => this.#pending.delete(close);
      },
      closed: () => {
        this.#open--;
      },
    };
  }

  // Closes fast-path connections whose write is still pending after the write timeout.
  #sweep(): void {
    const now = Date.now();
    for (const [close, deadline] of this.#pending) {
      if (now < deadline) continue;
      this.#pending.delete(close);
      countError(this.#options.stats, 'ETIMEDOUT');
      close();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  get service(): ServiceName {
    return this.#options.service;
  }

  // Connections in this listener's kernel accept queue; undefined where /proc is absent.
  queued(): number | undefined {
    const fd = this.#fd();
    return fd === undefined ? undefined : acceptQueueLength(fd);
  }

  // The listening descriptor (libuv's, not a public API; undefined where it is not exposed).
  #fd(): number | undefined {
    const fd = (this.#server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return fd === undefined || fd < 0 ? undefined : fd;
  }

  // Graceful stop. Closing a listener resets every connection still in its accept queue, so first keep
  // accepting until the kernel's queue is empty, then close, then give open connections until the
  // deadline to finish before destroying them.
  async drain(deadline: number): Promise<void> {
    if (!this.#server.listening) return;
    // New SYNs are dropped from here on, so the queue can only shrink: without this, under steady load
    // the queue is rarely empty, and whatever completed between the last look and close() is reset.
    const fd = this.#fd();
    if (fd !== undefined) await refuseNewConnections(fd);
    let lastCount = -1;
    while (Date.now() < deadline) {
      const queued = this.queued();
      const accepted = this.#options.stats.connections;
      // Without /proc, an interval with no new accept stands in for an empty queue.
      if (queued === 0 || (queued === undefined && accepted === lastCount)) break;
      lastCount = accepted;
      await sleep(queued === undefined ? 100 : 10);
    }
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const timer = setTimeout(() => this.destroyAll(), Math.max(0, deadline - Date.now()));
    await closed;
    // Fast-path connections are not Node's to count: wait for them here.
    while (this.#open > 0 && Date.now() < deadline) await sleep(10);
    clearTimeout(timer);
    if (this.#open > 0) this.destroyAll();
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    for (const close of this.#pending.keys()) close();
    this.#pending.clear();
  }

  // The per-connection path, kept to what dtref does (accept, write, close): the reply is cached once a
  // second, nothing is read (pauseOnConnect: no read, no epoll registration), and the socket is closed
  // as soon as the reply is in the kernel. A client that sent data gets its line, then a reset instead
  // of EOF: Linux delivers the queued line before the RST that closing with unread data sends.
  #onConnection(socket: net.Socket): void {
    const options = this.#options;
    options.stats.connections++;
    socket.on('error', this.#onSocketError);
    if (options.logConnections) this.#logConnection(socket);
    socket.write(options.clock.reply(options.service), (error) => {
      if (error) return; // counted by #onSocketError; the stream destroys itself
      countServed(options.stats, this.#servedKey);
      // Deferred: destroying inside the write callback makes the stream build an ERR_STREAM_DESTROYED
      // (stack trace included) for every connection, about 2 % of the server's CPU in a profile.
      process.nextTick(destroySocket, socket);
    });
    // 26 bytes into a fresh connection's empty send buffer are written at once. Should a write ever
    // stay pending, a peer that never reads must not hold the descriptor past the write timeout.
    if (socket.writableLength > 0) this.#guard(socket);
  }

  readonly #onSocketError = (error: NodeJS.ErrnoException) => {
    countError(this.#options.stats, error.code);
  };

  #guard(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.setTimeout(this.#options.writeTimeoutMs, () => {
      countError(this.#options.stats, 'ETIMEDOUT');
      socket.destroy();
    });
  }

  #logConnection(socket: net.Socket): void {
    if (socket.remoteAddress !== undefined) this.#logPeer(socket.remoteAddress, socket.remotePort ?? 0);
  }

  #logPeer(address: string, port: number): void {
    const peer = formatHostPort(unmapIPv4(address), port);
    this.#options.logger?.info({ peer, service: this.#options.service }, `Got a connection from ${peer}`);
  }

  #onAcceptError(error: NodeJS.ErrnoException): void {
    countError(this.#options.stats, error.code);
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLog = now;
    this.#options.logger?.error(
      { err: error, errors: this.#options.stats.errors },
      `accept failed: ${error.message}`,
    );
  }
}
