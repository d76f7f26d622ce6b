import { performance } from 'node:perf_hooks';
import { DaytimeError } from '../errors.ts';
import { DEFAULT_TIME_PORT } from '../net/default-ports.ts';
import { decodeTime } from '../protocol/time.ts';
import type { QueryInput } from './options.ts';
import { exchange, roundMs } from './query-daytime.ts';

export interface TimeReply {
  // The server's time, decoded in the era nearest the local clock, ISO 8601 UTC.
  time: string;
  // Server time minus the local clock at the middle of the exchange, in milliseconds. RFC 868 has whole
  // seconds only, so this is exact to about ±1 s.
  offsetMs: number;
  receivedAt: string;
  rttMs: number;
  peer: string;
  // The 4 bytes as hex.
  raw: string;
}

const DAYTIME_HINT = 'a daytime server? Leave out --time';

// RFC 868 time over TCP (default) or UDP, port 37 unless told.
export async function queryTime(input: QueryInput = {}): Promise<TimeReply> {
  const reply = await exchange(input, 4, { defaultPort: DEFAULT_TIME_PORT, tooLong: DAYTIME_HINT });
  if (reply.data.length !== 4) {
    const line = reply.data.includes('\r\n') ? `, a line: ${DAYTIME_HINT}` : '';
    throw new DaytimeError('ERR_BAD_REPLY', `an RFC 868 reply is 4 bytes, got ${reply.data.length}${line}`);
  }
  // The local clock when the server most likely read its own: halfway through the exchange.
  const localMid = Date.now() - (performance.now() - (reply.startedAt + reply.endedAt) / 2);
  const serverMs = decodeTime(reply.data, localMid);
  return {
    time: new Date(serverMs).toISOString(),
    offsetMs: Math.round(serverMs - localMid),
    receivedAt: new Date().toISOString(),
    rttMs: roundMs(reply.endedAt - reply.startedAt),
    peer: reply.peer,
    raw: reply.data.toString('hex'),
  };
}
