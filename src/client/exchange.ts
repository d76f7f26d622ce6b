import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DaytimeError, fromSystemError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
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

// TCP: connect and read until the server closes; at most maxBytes.
export function tcpExchange(config: QueryConfig, maxBytes: number): Promise<Exchange> {
  const { host, port } = config;
  let peer = formatHostPort(host, port);
  return guarded(config, peer, (settle) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    const socket = net.connect({ host, port });
    socket.on('connect', () => {
      peer = formatHostPort(socket.remoteAddress ?? host, socket.remotePort ?? port);
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        settle(new DaytimeError('ERR_REPLY_TOO_LONG', `the reply from ${peer} exceeds ${maxBytes} bytes`));
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

// UDP: one empty datagram out, the first datagram back. A lost datagram is only a timeout.
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
        udp.on('message', (data, from) => {
          if (from.address !== address || from.port !== port) return;
          settle(undefined, { data, peer, startedAt, endedAt: performance.now() });
        });
        // An ICMP port unreachable arrives as ECONNREFUSED on a connected socket only; this one is not.
        udp.on('error', (error) => settle(fromSystemError(error, `cannot query ${peer}/udp`)));
        udp.send(Buffer.alloc(0), port, address);
      },
      (error) => settle(fromSystemError(error, `cannot query ${target}/udp`)),
    );
    return () => {
      closed = true;
      socket?.close();
    };
  });
}
