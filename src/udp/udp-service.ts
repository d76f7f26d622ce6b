import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { DaytimeError, fromSystemError } from '../errors.ts';
import { refuseNewConnections } from '../kernel/socket-filter.ts';
import { formatHostPort } from '../net/address.ts';
import type { ListenerInfo } from '../observability/listener-info.ts';
import type { ServerLogger } from '../observability/logger.ts';
import { countError, countServed, type ServerStats } from '../observability/stats.ts';
import type { ReplyClock, ServiceName } from '../protocol/replies.ts';
import { udpPaths } from './choose.ts';
import type { ReplyLimiter } from './rate-limit.ts';
import type { DatagramHooks, UdpChoice, UdpPath, UdpReader } from './types.ts';

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
  // How datagrams are read and answered (accept/choose.ts): auto, mmsg or dgram.
  io?: UdpChoice;
  logger: ServerLogger | undefined;
}

// One UDP socket for one service: every datagram, the empty one included, gets one reply datagram,
// within the rate limits. UDP has no listen() and no backlog; its queue is the receive buffer. Node
// binds (addresses, dual stack, SO_REUSEPORT, inherited descriptors); a UDP path (udp/) then reads
// and answers; counting and the drain are here, the same for every path.
export class UdpService {
  readonly #options: UdpServiceOptions;
  #reader: UdpReader | undefined;

  constructor(options: UdpServiceOptions) {
    this.#options = options;
  }

  // Port 0 for a service means: the port its TCP listener got, so both share one number.
  async listen(tcpPort?: number): Promise<ListenerInfo> {
    const { host, fd, reusePort } = this.#options;
    // Before any socket: a path asked for by name that cannot load here is an error, not a fallback.
    const paths = await udpPaths(this.#options.io ?? 'auto');
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
    let bound: AddressInfo;
    try {
      bound = await this.#bind(type, address, port, fd, reusePort, paths);
    } catch (error) {
      // No IPv6 here: all interfaces means all IPv4 ones.
      if (host !== undefined || fd !== undefined || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT')
        throw fromSystemError(
          error,
          `cannot listen on ${fd !== undefined ? `fd ${fd}` : `port ${port}`}/udp`,
        );
      bound = await this.#bind('udp4', '0.0.0.0', port, undefined, reusePort, paths);
    }
    return {
      service: this.#options.service,
      transport: 'udp',
      address: bound.address,
      port: bound.port,
      family: bound.family,
      allInterfaces: host === undefined && fd === undefined,
      inherited: fd !== undefined,
      udpPath: this.#reader?.path,
    };
  }

  get service(): ServiceName {
    return this.#options.service;
  }

  // Graceful stop: new datagrams are dropped by a socket filter (as new SYNs are in the TCP drain), the
  // ones already in the receive buffer are answered within the limits, then the socket closes.
  async drain(deadline: number): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    if (!reader) return;
    if (reader.fd !== undefined) await refuseNewConnections(reader.fd);
    await reader.drain(deadline);
  }

  #hooks(): DatagramHooks {
    const { stats, clock, service, limiter } = this.#options;
    const servedKey = `${service}/udp`;
    return {
      reply: () => clock.reply(service),
      limiter,
      received: (count) => {
        stats.udpReceived += count;
      },
      dropped: (reason, count) => {
        stats.udpDropped[reason] = (stats.udpDropped[reason] ?? 0) + count;
      },
      served: (count) => countServed(stats, servedKey, count),
      error: (code, count) => countError(stats, code, count),
    };
  }

  // Resolves once bound and taken over by the first path that can: within Node's bind callback, so
  // that no datagram has been read yet (a socket activated by its first datagram still holds it).
  #bind(
    type: dgram.SocketType,
    address: string,
    port: number,
    fd: number | undefined,
    reusePort: boolean,
    paths: UdpPath[],
  ): Promise<AddressInfo> {
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
        const bound = socket.address();
        const hooks = this.#hooks();
        this.#reader = paths.reduce<UdpReader | undefined>(
          (r, path) => r ?? path.take(socket, hooks),
          undefined,
        );
        if (this.#reader) resolve(bound);
        else {
          socket.close();
          const names = paths.map((p) => p.name).join(', ');
          reject(
            new DaytimeError('ERR_ACCEPT_PATH_UNAVAILABLE', `the ${names} UDP path cannot take this socket`),
          );
        }
      };
      if (fd !== undefined) socket.bind({ fd }, done);
      else socket.bind({ port, address }, done);
    });
  }
}
