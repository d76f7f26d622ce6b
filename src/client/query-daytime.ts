import { DaytimeError } from '../errors.ts';
import { type Exchange, tcpExchange, udpExchange } from './exchange.ts';
import { MAX_REPLY_BYTES, normalizeQueryOptions, type QueryInput } from './options.ts';

// 4 bytes and no line: what an RFC 868 time server sends.
const TIME_HINT = '4 bytes without a line is an RFC 868 time reply: a time server? Try --time';

export interface DaytimeReply {
  // The line without its CRLF.
  line: string;
  // When the reply was complete (EOF, or the datagram), ISO 8601 UTC.
  receivedAt: string;
  // From the start of connect() (or the send) to the complete reply, in milliseconds.
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
  if (end === -1) {
    const why = reply.length === 4 && !text.includes('\n') ? TIME_HINT : 'cut short?';
    throw new DaytimeError('ERR_NO_CRLF', `the reply does not end in CRLF (${why})`);
  }
  if (end + 2 !== text.length) throw new DaytimeError('ERR_BAD_REPLY', 'the reply has more than one line');
  return text.slice(0, end);
}

export const roundMs = (ms: number) => Math.round(ms * 1000) / 1000;

// Runs the exchange over the chosen transport: TCP reads to EOF, UDP takes one datagram.
export function exchange(
  input: QueryInput,
  maxBytes: number,
  { defaultPort, tooLong }: { defaultPort?: number; tooLong?: string } = {},
): Promise<Exchange> {
  const config = normalizeQueryOptions(input, defaultPort);
  return config.transport === 'udp' ? udpExchange(config) : tcpExchange(config, maxBytes, tooLong);
}

// RFC 867 daytime over TCP (default) or UDP.
export async function queryDaytime(input: QueryInput = {}): Promise<DaytimeReply> {
  const reply = await exchange(input, MAX_REPLY_BYTES);
  return {
    line: parseDaytimeReply(reply.data),
    receivedAt: new Date().toISOString(),
    rttMs: roundMs(reply.endedAt - reply.startedAt),
    peer: reply.peer,
  };
}
