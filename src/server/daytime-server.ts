import net from 'node:net';
import type { Logger } from 'pino';
import { fromSystemError } from '../errors.ts';
import { type BacklogInfo, describeBacklog } from '../kernel/somaxconn.ts';
import { formatHostPort, unmapIPv4 } from '../net/address.ts';
import { LineClock } from './line-clock.ts';
import { type DaytimeServerConfig, type DaytimeServerInput, normalizeServerOptions } from './options.ts';
import { countError, type ServerStats } from './stats.ts';

export type ServerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface DaytimeServerOptions extends DaytimeServerInput {
  // pino or anything with the same methods; without one the server logs nothing.
  logger?: ServerLogger;
  // One info line per connection with the peer address (the classic "Got a connection from").
  logConnections?: boolean;
  // How long a served connection may wait for the peer to close before it is destroyed, so a peer that
  // never reads and never closes cannot hold a descriptor.
  lingerMs?: number;
}

export interface ListenInfo extends BacklogInfo {
  address: string;
  port: number;
  family: string;
  // True when no host was given: Node binds `::` with IPv4 mapped in, or 0.0.0.0 without IPv6.
  allInterfaces: boolean;
}

const DEFAULT_LINGER_MS = 10_000;
const ERROR_LOG_INTERVAL_MS = 1000;

export class DaytimeServer {
  readonly config: DaytimeServerConfig;
  readonly #server: net.Server;
  readonly #clock: LineClock;
  readonly #sockets = new Set<net.Socket>();
  readonly #stats: ServerStats = { connections: 0, served: 0, errors: {} };
  readonly #logger: ServerLogger | undefined;
  readonly #logConnections: boolean;
  readonly #lingerMs: number;
  #lastErrorLog = 0;

  constructor(options: DaytimeServerOptions = {}) {
    this.config = normalizeServerOptions(options);
    this.#clock = new LineClock(this.config.format);
    this.#logger = options.logger;
    this.#logConnections = Boolean(options.logger) && options.logConnections !== false;
    this.#lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.#server = net.createServer((socket) => this.#onConnection(socket));
    // Once listening, an 'error' is an accept() failure (EMFILE, ENFILE...). It must not end the server.
    this.#server.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#server.listening) this.#onServerError(error);
    });
  }

  listen(): Promise<ListenInfo> {
    const { host, port, backlog } = this.config;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const where = host === undefined ? `port ${port}` : formatHostPort(host, port);
        const hint =
          error.code === 'EACCES' && port < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : '';
        reject(fromSystemError(error, `cannot listen on ${where}`, hint));
      };
      this.#server.once('error', onError);
      this.#server.listen({ host, port, backlog }, () => {
        this.#server.off('error', onError);
        const info = this.#listenInfo();
        this.#logListening(info);
        resolve(info);
      });
    });
  }

  // Stops accepting; connections still open after graceMs are destroyed.
  close(graceMs = 2000): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
      }, graceMs);
      this.#server.close(() => {
        clearTimeout(timer);
        this.#logger?.info({ stats: this.stats() }, 'server closed');
        resolve();
      });
    });
  }

  address(): net.AddressInfo | null {
    const address = this.#server.address();
    return typeof address === 'object' ? address : null;
  }

  stats(): ServerStats {
    return { ...this.#stats, errors: { ...this.#stats.errors } };
  }

  #onConnection(socket: net.Socket): void {
    const stats = this.#stats;
    stats.connections++;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      countError(stats, error.code);
      this.#logger?.debug({ err: error, peer: socket.remoteAddress }, 'connection error');
    });
    socket.setTimeout(this.#lingerMs, () => {
      countError(stats, 'ETIMEDOUT');
      socket.destroy();
    });
    if (this.#logConnections && socket.remoteAddress !== undefined) {
      const peer = formatHostPort(unmapIPv4(socket.remoteAddress), socket.remotePort ?? 0);
      this.#logger?.info({ peer }, `Got a connection from ${peer}`);
    }
    socket.end(this.#clock.line(), (error?: Error | null) => {
      if (!error) stats.served++;
    });
    // Anything the client sends is read and dropped: closing with unread data would send an RST that can
    // destroy the line before the client has read it.
    socket.resume();
  }

  #onServerError(error: NodeJS.ErrnoException): void {
    countError(this.#stats, error.code);
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.#lastErrorLog = now;
    this.#logger?.error({ err: error, errors: this.#stats.errors }, `accept failed: ${error.message}`);
  }

  #listenInfo(): ListenInfo {
    const address = this.address();
    return {
      address: address?.address ?? '',
      port: address?.port ?? this.config.port,
      family: address?.family ?? '',
      allInterfaces: this.config.host === undefined,
      ...describeBacklog(this.config.backlog),
    };
  }

  #logListening(info: ListenInfo): void {
    const logger = this.#logger;
    if (!logger) return;
    const where = formatHostPort(info.address, info.port);
    const scope = info.allInterfaces
      ? info.family === 'IPv6'
        ? ' (all interfaces, IPv6 and IPv4)'
        : ' (all IPv4 interfaces)'
      : '';
    const kernel =
      info.somaxconn === undefined
        ? 'somaxconn unknown (no /proc)'
        : `${info.effective} effective (net.core.somaxconn ${info.somaxconn})`;
    const queue =
      info.acceptQueueCapacity === undefined
        ? ''
        : `; the accept queue holds ${info.acceptQueueCapacity} connections (backlog + 1 on Linux)`;
    logger.info(
      { address: info.address, port: info.port, backlog: info.requested, effectiveBacklog: info.effective },
      `listening on ${where}${scope}; backlog ${info.requested} requested, ${kernel}${queue}`,
    );
    if (info.clamped) {
      logger.warn(
        `backlog ${info.requested} is clamped by the kernel to net.core.somaxconn = ${info.somaxconn}; ` +
          `raise it with: sysctl -w net.core.somaxconn=${info.requested}`,
      );
    }
  }
}

export function createDaytimeServer(options: DaytimeServerOptions = {}): DaytimeServer {
  return new DaytimeServer(options);
}
