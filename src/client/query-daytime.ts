import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { DaytimeError, fromSystemError } from '../errors.ts';
import { formatHostPort } from '../net/address.ts';
import { MAX_REPLY_BYTES, normalizeQueryOptions, type QueryInput } from './options.ts';

export interface DaytimeReply {
  // The line without its CRLF.
  line: string;
  // When the reply was complete (EOF), ISO 8601 UTC.
  receivedAt: string;
  // From the start of connect() to EOF, in milliseconds.
  rttMs: number;
  // The address actually connected to, "[::1]:9999" or "127.0.0.1:9999".
  peer: string;
}

// Checks that a reply is exactly one CRLF-terminated line and returns it without the CRLF.
export function parseDaytimeReply(reply: Buffer): string {
  const text = reply.toString('latin1');
  if (text.length === 0)
    throw new DaytimeError('ERR_EMPTY_REPLY', 'the server closed without sending a line');
  const end = text.indexOf('\r\n');
  if (end === -1) throw new DaytimeError('ERR_NO_CRLF', 'the reply does not end in CRLF (cut short?)');
  if (end + 2 !== text.length) throw new DaytimeError('ERR_BAD_REPLY', 'the reply has more than one line');
  return text.slice(0, end);
}

// RFC 867 over TCP: connect, read until the server closes, check the line.
export function queryDaytime(input: QueryInput = {}): Promise<DaytimeReply> {
  const { host, port, timeoutMs, signal } = normalizeQueryOptions(input);
  const target = formatHostPort(host, port);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let peer = target;
    const socket = net.connect({ host, port });
    const fail = (error: DaytimeError) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(new DaytimeError('ETIMEDOUT', `no complete reply from ${peer} within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const onAbort = () =>
      fail(new DaytimeError('ABORT_ERR', 'the query was aborted', { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('connect', () => {
      peer = formatHostPort(socket.remoteAddress ?? host, socket.remotePort ?? port);
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) {
        fail(
          new DaytimeError('ERR_REPLY_TOO_LONG', `the reply from ${peer} exceeds ${MAX_REPLY_BYTES} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', () => {
      const rttMs = performance.now() - started;
      try {
        const line = parseDaytimeReply(Buffer.concat(chunks));
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve({ line, receivedAt: new Date().toISOString(), rttMs: Math.round(rttMs * 1000) / 1000, peer });
      } catch (error) {
        fail(error as DaytimeError);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      fail(fromSystemError(error, `cannot query ${peer}`)),
    );
  });
}
