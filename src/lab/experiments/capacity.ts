import { readListenQueues } from '../../kernel/listen-queue.ts';
import { counterDelta, readKernelCounters } from '../../kernel/netstat.ts';
import { tryConnect } from '../clients.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

export const CAPACITY_BACKLOGS = [0, 1, 2, 5, 10];
const EXTRA = 3;
const WAIT_MS = 150;

export interface CapacityRow {
  backlog: number;
  attempted: number;
  // Clients whose handshake completed: the accept queue's capacity.
  connected: number;
  // Clients that got neither a connection nor an error within the wait (SYN dropped, retrying).
  pending: number;
  refusedOrReset: number;
  // The kernel's own view with the queue full: ss Recv-Q (queued) and Send-Q (backlog).
  ssQueued: number | undefined;
  ssBacklog: number | undefined;
  listenOverflowsDelta: number | undefined;
  listenDropsDelta: number | undefined;
}

// A listener that never accepts, and clients one at a time until the queue is full and then some:
// how many handshakes complete for each backlog (Stevens' UNP Figure 4.10, on this kernel).
export const capacity: Experiment = {
  id: 'capacity',
  title: 'Accept-queue capacity per backlog',
  questions: ['Q1', 'Q2'],
  expected: 'backlog + 1 on Linux: 0→1, 1→2, 2→3, 5→6, 10→11; Recv-Q = Send-Q + 1 when full',
  counters: ['TcpExtListenOverflows', 'TcpExtListenDrops'],
  async run({ progress, signal }) {
    const rows: CapacityRow[] = [];
    for (const backlog of CAPACITY_BACKLOGS) {
      if (signal.aborted) break;
      progress({ step: 'backlog', backlog });
      const listener = await RawSocket.inet(SOCK_STREAM);
      const sockets = [];
      try {
        await listener.listen(backlog);
        const before = readKernelCounters();
        const outcomes = [];
        for (let i = 0; i < backlog + 1 + EXTRA; i++) {
          const attempt = await tryConnect({ port: listener.port }, WAIT_MS);
          sockets.push(attempt.socket);
          outcomes.push(attempt.outcome);
        }
        const after = readKernelCounters();
        const ss = (await readListenQueues(listener.port))?.[0];
        rows.push({
          backlog,
          attempted: outcomes.length,
          connected: outcomes.filter((o) => o === 'connected').length,
          pending: outcomes.filter((o) => o === 'pending').length,
          refusedOrReset: outcomes.filter((o) => o === 'refused' || o === 'reset').length,
          ssQueued: ss?.queued,
          ssBacklog: ss?.backlog,
          listenOverflowsDelta: counterDelta(before, after, 'TcpExtListenOverflows'),
          listenDropsDelta: counterDelta(before, after, 'TcpExtListenDrops'),
        });
      } finally {
        for (const s of sockets) s.destroy();
        listener.close();
      }
    }
    const plusOne = rows.every((r) => r.connected === r.backlog + 1);
    const silent = rows.every((r) => r.refusedOrReset === 0 && r.pending === r.attempted - r.connected);
    const table = rows.map((r) => `${r.backlog}→${r.connected}`).join(', ');
    return {
      parameters: { backlogs: CAPACITY_BACKLOGS, extraClients: EXTRA, waitMs: WAIT_MS },
      measurements: { rows },
      status: plusOne ? 'ok' : 'differs',
      verdict:
        `A listener that never accepts let ${table} handshakes complete (backlog → connections): ` +
        (plusOne ? 'backlog + 1 every time. ' : 'not backlog + 1 everywhere; see the table. ') +
        (silent
          ? `The ${rows.reduce((n, r) => n + r.pending, 0)} clients beyond were neither connected nor refused: their SYNs were dropped silently.`
          : 'Some clients beyond the queue were refused or reset.'),
    };
  },
};
