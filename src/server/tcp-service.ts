import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fromSystemError } from '../errors.ts';
import { readBacklogOfInode } from '../kernel/listen-queue.ts';
import { acceptQueueLength, socketInode } from '../kernel/proc-net.ts';
import { describeBacklog, readSomaxconn } from '../kernel/somaxconn.ts';
import { formatHostPort, unmapIPv4 } from '../net/address.ts';
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
  logger: ServerLogger | undefined;
  logConnections: boolean;
}

const ERROR_LOG_INTERVAL_MS = 1000;

// One TCP listener for one service: accept, send the reply, close.
export class TcpService {
  readonly #options: TcpServiceOptions;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #servedKey: string;
  #lastErrorLog = 0;

  constructor(options: TcpServiceOptions) {
    this.#options = options;
    this.#servedKey = `${options.service}/tcp`;
    this.#server = net.createServer((socket) => this.#onConnection(socket));
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
    };
  }

  get service(): ServiceName {
    return this.#options.service;
  }

  get listening(): boolean {
    return this.#server.listening;
  }

  // Connections in this listener's kernel accept queue; undefined where /proc is absent.
  queued(): number | undefined {
    const fd = (this.#server as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return fd === undefined || fd < 0 ? undefined : acceptQueueLength(fd);
  }

  // Graceful stop. Closing a listener resets every connection still in its accept queue, so first keep
  // accepting until the kernel's queue is empty, then close, then give open connections until the
  // deadline to finish before destroying them.
  async drain(deadline: number): Promise<void> {
    if (!this.#server.listening) return;
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
    clearTimeout(timer);
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  #onConnection(socket: net.Socket): void {
    const { stats, clock, service, logger } = this.#options;
    stats.connections++;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      countError(stats, error.code);
      logger?.debug({ err: error, peer: socket.remoteAddress }, 'connection error');
    });
    socket.setTimeout(this.#options.writeTimeoutMs, () => {
      countError(stats, 'ETIMEDOUT');
      socket.destroy();
    });
    if (this.#options.logConnections && socket.remoteAddress !== undefined) {
      const peer = formatHostPort(unmapIPv4(socket.remoteAddress), socket.remotePort ?? 0);
      logger?.info({ peer, service }, `Got a connection from ${peer}`);
    }
    socket.end(clock.reply(service), (error?: Error | null) => {
      if (!error) countServed(stats, this.#servedKey);
    });
    // Anything the client sends is read and dropped: closing with unread data would send an RST that can
    // destroy the reply before the client has read it.
    socket.resume();
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
