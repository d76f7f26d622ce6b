import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DaytimeError, fromSystemError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
import { unmapIPv4 } from '../net/ip.ts';
import { encodeProxyV1, encodeProxyV2 } from '../protocol/proxy.ts';
import type { QueryConfig } from './options.ts';

export interface Exchange {
  data: Buffer;
  // The address that answered, "[::1]:9999" or "127.0.0.1:9999".
  peer: string;
  // performance.now() when the request started and when the reply was complete.
  startedAt: number;
  endedAt: number;
}

// Settles once: a timeout, an abort or the transport's own outcome, whichever comes first.
function guarded<T>(config: QueryConfig, target: string, run: (settle: Settle<T>) => () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let cleanup = () => {};
    const settle: Settle<T> = (error, value) => {
      clearTimeout(timer);
      config.signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (error) reject(error);
      else resolve(value as T);
    };
    const onAbort = () =>
      settle(new DaytimeError('ABORT_ERR', 'the query was aborted', { cause: config.signal?.reason }));
    const timer = setTimeout(
      () =>
        settle(
          new DaytimeError(
            'ETIMEDOUT',
            `no complete reply from ${target} within ${config.timeoutMs / 1000} s`,
          ),
        ),
      config.timeoutMs,
    );
    if (config.signal?.aborted) return onAbort();
    config.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = run(settle);
  });
}
type Settle<T> = (error: DaytimeError | undefined, value?: T) => void;

// TCP: connect (then, with config.proxy, send a PROXY header) and read until the server closes; at
// most maxBytes. `tooLong` may add a hint to the error for a reply longer than that.
export function tcpExchange(config: QueryConfig, maxBytes: number, tooLong = ''): Promise<Exchange> {
  const { host, port } = config;
  let peer = formatHostPort(host, port);
  return guarded(config, peer, (settle) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host, port });
    socket.on('connect', () => {
      peer = formatHostPort(socket.remoteAddress ?? host, socket.remotePort ?? port);
      if (config.proxy) socket.write(proxyHeader(config.proxy, socket));
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        const message = `the reply from ${peer} exceeds ${maxBytes} bytes${tooLong && ` (${tooLong})`}`;
        settle(new DaytimeError('ERR_REPLY_TOO_LONG', message));
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', () =>
      settle(undefined, { data: Buffer.concat(chunks), peer, startedAt, endedAt: performance.now() }),
    );
    socket.on('error', (error) => settle(fromSystemError(error, `cannot query ${peer}`)));
    return () => socket.destroy();
  });
}

// The header a balancer would send for this connection: the client is this socket's own end.
function proxyHeader(version: 'v1' | 'v2', socket: net.Socket): Buffer {
  const source = { address: unmapIPv4(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
  const destination = { address: unmapIPv4(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
  return version === 'v1' ? encodeProxyV1(source, destination) : encodeProxyV2(source, destination);
}

// UDP: one empty datagram out, the first datagram back, on a connected socket: a closed port's ICMP
// port unreachable then fails the query at once (ECONNREFUSED). Otherwise a lost datagram is a timeout.
export function udpExchange(config: QueryConfig): Promise<Exchange> {
  const { host, port } = config;
  const target = formatHostPort(host, port);
  return guarded(config, `${target}/udp`, (settle) => {
    let socket: dgram.Socket | undefined;
    let closed = false;
    lookup(host).then(
      ({ address, family }) => {
        if (closed) return;
        const peer = formatHostPort(address, port);
        const udp = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
        socket = udp;
        const startedAt = performance.now();
        udp.on('message', (data) => settle(undefined, { data, peer, startedAt, endedAt: performance.now() }));
        udp.on('error', (error) =>
          settle(
            fromSystemError(
              error,
              `cannot query ${peer}/udp`,
              (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'
                ? 'nothing listens on that UDP port'
                : '',
            ),
          ),
        );
        udp.connect(port, address, () => udp.send(Buffer.alloc(0)));
      },
      (error) => settle(fromSystemError(error, `cannot query ${target}/udp`)),
    );
    return () => {
      closed = true;
      socket?.close();
    };
  });
}
