import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { fromSystemError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
import type { ListenerInfo } from './listener-info.ts';
import type { ServerLogger } from './logger.ts';
import type { ReplyLimiter } from './rate-limit.ts';
import type { ReplyClock, ServiceName } from './replies.ts';
import { countError, countServed, type ServerStats } from './stats.ts';

export interface UdpServiceOptions {
  service: ServiceName;
  clock: ReplyClock;
  stats: ServerStats;
  limiter: ReplyLimiter;
  host: string | undefined;
  port: number;
  fd?: number;
  // An inherited descriptor's address family: the handle must match it, or every send fails (EINVAL).
  fdFamily?: 4 | 6;
  reusePort: boolean;
  logger: ServerLogger | undefined;
}

// One UDP socket for one service: every datagram, the empty one included, gets one reply datagram,
// within the rate limits. UDP has no listen() and no backlog; its queue is the receive buffer.
export class UdpService {
  readonly #options: UdpServiceOptions;
  #socket: dgram.Socket | undefined;

  constructor(options: UdpServiceOptions) {
    this.#options = options;
  }

  // Port 0 for a service means: the port its TCP listener got, so both share one number.
  async listen(tcpPort?: number): Promise<ListenerInfo> {
    const { host, fd, reusePort } = this.#options;
    const port = this.#options.port === 0 && tcpPort !== undefined ? tcpPort : this.#options.port;
    let type: dgram.SocketType = this.#options.fdFamily === 4 ? 'udp4' : 'udp6';
    let address = host ?? '::';
    if (host !== undefined) {
      const resolved = await lookup(host).catch((error) => {
        throw fromSystemError(error, `cannot listen on ${formatHostPort(host, port)}/udp`);
      });
      type = resolved.family === 6 ? 'udp6' : 'udp4';
      address = resolved.address;
    }
    try {
      this.#socket = await this.#bind(type, address, port, fd, reusePort);
    } catch (error) {
      // No IPv6 here: all interfaces means all IPv4 ones.
      if (host !== undefined || fd !== undefined || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT')
        throw fromSystemError(
          error,
          `cannot listen on ${fd !== undefined ? `fd ${fd}` : `port ${port}`}/udp`,
        );
      this.#socket = await this.#bind('udp4', '0.0.0.0', port, undefined, reusePort);
    }
    const bound = this.#socket.address();
    return {
      service: this.#options.service,
      transport: 'udp',
      address: bound.address,
      port: bound.port,
      family: bound.family,
      allInterfaces: host === undefined && fd === undefined,
      inherited: fd !== undefined,
    };
  }

  get service(): ServiceName {
    return this.#options.service;
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    return new Promise((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }

  #bind(
    type: dgram.SocketType,
    address: string,
    port: number,
    fd: number | undefined,
    reusePort: boolean,
  ): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type, reusePort: reusePort || undefined });
      const onError = (error: Error) => {
        socket.close();
        reject(error);
      };
      socket.once('error', onError);
      const done = () => {
        socket.off('error', onError);
        socket.on('error', (error: NodeJS.ErrnoException) => countError(this.#options.stats, error.code));
        socket.on('message', (_message, peer) => this.#onMessage(socket, peer));
        resolve(socket);
      };
      if (fd !== undefined) socket.bind({ fd }, done);
      else socket.bind({ port, address }, done);
    });
  }

  #onMessage(socket: dgram.Socket, peer: dgram.RemoteInfo): void {
    const { stats, limiter, clock, service } = this.#options;
    stats.udpReceived++;
    const dropped = limiter.check(peer.address);
    if (dropped !== undefined) {
      stats.udpDropped[dropped] = (stats.udpDropped[dropped] ?? 0) + 1;
      return;
    }
    socket.send(clock.reply(service), peer.port, peer.address, (error) => {
      if (error) countError(stats, (error as NodeJS.ErrnoException).code);
      else countServed(stats, `${service}/udp`);
    });
  }
}
