import { counterDelta } from '../kernel/netstat.ts';
import { peersOfPort } from '../kernel/proc-net.ts';
import type { PlaygroundClient } from './client.ts';

// What the kernel says about a run beyond each socket's own TCP_INFO: the server's side of each
// connection, and the namespace's counters.

// The kernel is read at least this often while a run goes on (the page wants 10 a second or more).
export const TICK_MS = 50;

// The counters a run shows, as /proc/net/netstat and snmp name them (nstat's names).
export const COUNTERS = [
  'TcpExtListenOverflows',
  'TcpExtListenDrops',
  'TcpExtSyncookiesSent',
  'TcpExtSyncookiesRecv',
  'TcpExtSyncookiesFailed',
  'TcpExtTCPReqQFullDoCookies',
  'TcpExtTCPReqQFullDrop',
  'TcpExtTCPSynRetrans',
  'TcpActiveOpens',
  'TcpPassiveOpens',
  'TcpAttemptFails',
  'TcpEstabResets',
  'TcpOutRsts',
];

// How long a completed handshake may go unmatched on the server's side before the client counts as lost.
const LOST_AFTER_S = 0.1;

// Clients whose handshake is complete and whom the server has not accepted: in the accept queue, or
// held as a half-open request (their final ACK dropped), or nothing at all. When there are no more of
// them than the listener's queue holds, they are all in it; otherwise the server's side of each is read
// from /proc/net/tcp (this namespace's), only then, as that read grows with every socket on the host.
export function classify(clients: PlaygroundClient[], queued: number, port: number, nowS: number): void {
  // A lost client stays lost (nothing on the server's side will appear for it): not read again.
  const waiting = clients.filter(
    (c) => c.established && !c.accepted && !c.view.done && c.view.state !== 'lost',
  );
  if (waiting.length === 0) return;
  if (waiting.length <= queued) {
    for (const c of waiting) c.set('queued');
    return;
  }
  const server = peersOfPort(port);
  for (const c of waiting) {
    const state = c.view.port === null ? undefined : server.get(c.view.port);
    if (state === '01') c.set('queued');
    else if (state === '03') c.set('half-open');
    // Nothing, and not only just now (an ACK still in flight): a connection the server does not hold.
    else if (state === undefined && nowS - (c.view.connectedS ?? nowS) >= LOST_AFTER_S) c.set('lost');
  }
}

export function counterDeltas(
  before: Record<string, number> | undefined,
  after: Record<string, number> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of COUNTERS) {
    const delta = counterDelta(before, after, key);
    if (delta !== undefined) out[key] = delta;
  }
  return out;
}
