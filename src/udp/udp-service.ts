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
import type { DatagramHooks, UdpChoice, UdpReader } from './types.ts';

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
  // A descriptor bound by daytime itself (the primary, or this process before --user's switch): whether
  // it was bound on every interface. Undefined for one inherited from systemd.
  allInterfaces?: boolean;
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
    const bound = await bindUdp({ host, port, fd, fdFamily: this.#options.fdFamily, reusePort }, (socket) => {
      socket.on('error', (error: NodeJS.ErrnoException) => countError(this.#options.stats, error.code));
      const hooks = this.#hooks();
      this.#reader = paths.reduce<UdpReader | undefined>(
        (r, path) => r ?? path.take(socket, hooks),
        undefined,
      );
      if (this.#reader) return true;
      const names = paths.map((p) => p.name).join(', ');
      throw new DaytimeError('ERR_ACCEPT_PATH_UNAVAILABLE', `the ${names} UDP path cannot take this socket`);
    });
    return {
      service: this.#options.service,
      transport: 'udp',
      address: bound.address,
      port: bound.port,
      family: bound.family,
      allInterfaces: fd === undefined ? host === undefined : this.#options.allInterfaces === true,
      inherited: fd !== undefined && this.#options.allInterfaces === undefined,
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
}

export interface UdpBinding {
  // A name or address; undefined: every interface, IPv6 and IPv4 where the system has both.
  host: string | undefined;
  port: number;
  // An inherited descriptor (and its family) instead of host and port.
  fd?: number;
  fdFamily?: 4 | 6;
  reusePort: boolean;
}

// Binds a dgram socket where `binding` says and hands it to `take` within Node's bind callback, so that
// no datagram has been read yet (a socket activated by its first datagram still holds it). `take`
// takes the socket over, or throws (the socket is then closed). Every interface falls back to IPv4
// where the system has no IPv6.
export async function bindUdp(
  binding: UdpBinding,
  take: (socket: dgram.Socket) => unknown,
): Promise<AddressInfo> {
  const { host, port, fd, reusePort } = binding;
  let type: dgram.SocketType = binding.fdFamily === 4 ? 'udp4' : 'udp6';
  let address = host ?? '::';
  if (host !== undefined) {
    const resolved = await lookup(host).catch((error) => {
      throw fromSystemError(error, `cannot listen on ${formatHostPort(host, port)}/udp`);
    });
    type = resolved.family === 6 ? 'udp6' : 'udp4';
    address = resolved.address;
  }
  try {
    return await bindOne(type, address, port, fd, reusePort, take);
  } catch (error) {
    if (error instanceof DaytimeError) throw error;
    // No IPv6 here: all interfaces means all IPv4 ones.
    if (host !== undefined || fd !== undefined || (error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT')
      throw fromSystemError(error, `cannot listen on ${fd !== undefined ? `fd ${fd}` : `port ${port}`}/udp`);
    return bindOne('udp4', '0.0.0.0', port, undefined, reusePort, take);
  }
}

function bindOne(
  type: dgram.SocketType,
  address: string,
  port: number,
  fd: number | undefined,
  reusePort: boolean,
  take: (socket: dgram.Socket) => unknown,
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
      const bound = socket.address();
      try {
        take(socket);
        resolve(bound);
      } catch (error) {
        socket.close();
        reject(error);
      }
    };
    if (fd !== undefined) socket.bind({ fd }, done);
    else socket.bind({ port, address }, done);
  });
}
