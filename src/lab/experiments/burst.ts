import net from 'node:net';
import { counterDelta, readKernelCounters } from '../../kernel/netstat.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

export const BURST_BACKLOGS = [1, 5, 511];
const CLIENTS = 20;
const ACCEPT_EVERY_MS = 50;
const CLIENT_TIMEOUT_MS = 4000;

export interface BurstClient {
  backlog: number;
  client: number;
  // Seconds from the burst's start: connect() called, handshake completed, reply (EOF) received.
  attemptS: number;
  connectedS: number | null;
  servedS: number | null;
  outcome: 'served' | 'timeout' | 'error';
}

// The classic example's situation: a serial server that takes one client at a time (here one accept
// every 50 ms) and a burst of 20 clients, for listen(1), listen(5) and listen(511). Every client has
// its own timeout, so no run waits out the kernel's 131 s SYN give-up.
export const burst: Experiment = {
  id: 'burst',
  title: 'listen(1) vs listen(5) vs listen(511) behind a slow serial acceptor',
  questions: ['Q1', 'Q3'],
  expected: 'all clients get in; with backlog 1 most wait ≥ 1 s for SYN retransmissions, with 511 none',
  counters: ['TcpExtSyncookiesSent', 'TcpExtTCPReqQFullDoCookies', 'TcpExtListenOverflows'],
  async run({ progress, signal }) {
    const clients: BurstClient[] = [];
    const cookies: Record<
      number,
      { syncookiesSent?: number; reqQFullDoCookies?: number; listenOverflows?: number }
    > = {};
    for (const backlog of BURST_BACKLOGS) {
      // A stop between two bursts: the run is cut short, not reported as if whole.
      signal.throwIfAborted();
      progress({ step: 'backlog', backlog, clients: CLIENTS, acceptEveryMs: ACCEPT_EVERY_MS });
      const before = readKernelCounters();
      clients.push(...(await runBurst(backlog)));
      const after = readKernelCounters();
      cookies[backlog] = {
        syncookiesSent: counterDelta(before, after, 'TcpExtSyncookiesSent'),
        reqQFullDoCookies: counterDelta(before, after, 'TcpExtTCPReqQFullDoCookies'),
        listenOverflows: counterDelta(before, after, 'TcpExtListenOverflows'),
      };
    }
    const summary = BURST_BACKLOGS.map((backlog) => {
      const mine = clients.filter((c) => c.backlog === backlog);
      const served = mine.filter((c) => c.outcome === 'served');
      const slow = mine.filter((c) => c.connectedS !== null && c.connectedS - c.attemptS >= 1);
      return {
        backlog,
        served: served.length,
        timedOut: mine.filter((c) => c.outcome === 'timeout').length,
        waitedForRetransmission: slow.length,
        lastServedS: Math.max(0, ...served.map((c) => c.servedS ?? 0)),
        ...cookies[backlog],
      };
    });
    const verdict = summary
      .map(
        (s) =>
          `listen(${s.backlog}): ${s.served}/${CLIENTS} served, ${s.waitedForRetransmission} waited ≥ 1 s to connect, ${s.timedOut} timed out after ${CLIENT_TIMEOUT_MS / 1000} s (SYN cookies sent: ${s.syncookiesSent ?? '?'}), last served at ${s.lastServedS.toFixed(2)} s`,
      )
      .join('; ');
    const timedOut = summary.reduce((n, s) => n + s.timedOut, 0);
    return {
      parameters: {
        backlogs: BURST_BACKLOGS,
        clients: CLIENTS,
        acceptEveryMs: ACCEPT_EVERY_MS,
        clientTimeoutMs: CLIENT_TIMEOUT_MS,
      },
      measurements: { summary, clients },
      status: timedOut === 0 ? 'ok' : 'differs',
      verdict:
        `${verdict}.` +
        (timedOut > 0 && summary.some((s) => (s.syncookiesSent ?? 0) > 0)
          ? ' The timeouts went with SYN cookies: in a burst the SYN queue (bounded by the backlog too) overflowed, the kernel answered with cookies, and a cookie ACK dropped on the full accept queue leaves a client connected on its side while the server holds nothing; a daytime client waits for the server to speak, so it waits until its own timeout. Delayed, not lost, holds for clients that retry their SYN, not for these.'
          : ''),
    };
  },
};

async function runBurst(backlog: number): Promise<BurstClient[]> {
  const listener = await RawSocket.inet(SOCK_STREAM);
  await listener.listen(backlog);
  const start = performance.now();
  const since = () => Math.round(performance.now() - start) / 1000;
  // The serial server: one accept, reply, close, then the next after a pause.
  const acceptor = setInterval(() => {
    const fd = listener.acceptOne();
    if (fd !== undefined) {
      const socket = new net.Socket({ fd, readable: false, writable: true });
      socket.on('error', () => {});
      socket.end('Tue Nov 24 10:00:00 2026\r\n');
    }
  }, ACCEPT_EVERY_MS);
  try {
    return await Promise.all(
      Array.from({ length: CLIENTS }, (_, client) => {
        const result: BurstClient = {
          backlog,
          client,
          attemptS: since(),
          connectedS: null,
          servedS: null,
          outcome: 'timeout',
        };
        return new Promise<BurstClient>((resolve) => {
          const socket = net.connect(listener.port, '127.0.0.1');
          const timer = setTimeout(() => finish('timeout'), CLIENT_TIMEOUT_MS);
          const finish = (outcome: BurstClient['outcome']) => {
            clearTimeout(timer);
            socket.destroy();
            result.outcome = outcome;
            resolve(result);
          };
          socket.on('connect', () => {
            result.connectedS = since();
          });
          socket.on('data', () => {});
          socket.on('end', () => {
            result.servedS = since();
            finish('served');
          });
          socket.on('error', () => finish('error'));
        });
      }),
    );
  } finally {
    clearInterval(acceptor);
    listener.close();
  }
}
