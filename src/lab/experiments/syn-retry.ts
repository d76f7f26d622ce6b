import { setTimeout as sleep } from 'node:timers/promises';
import { tryConnect } from '../clients.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

export const DRAIN_AFTER_S = [0.5, 1.5, 3.5];

// A client whose SYN meets a full queue is delayed, not refused: it gets in at the first SYN
// retransmission after the server starts accepting. The latencies show this kernel's retry schedule.
export const synRetry: Experiment = {
  id: 'syn-retry',
  title: 'Overflowed clients are delayed, not lost',
  questions: ['Q1', 'Q3'],
  expected:
    'connect latency ≈1, 2, 4 s for draining after 0.5/1.5/3.5 s (tcp_syn_linear_timeouts=4); ≈1, 3, 7 s on classic kernels',
  async run({ progress }) {
    progress({ step: 'drains', drainAfterS: DRAIN_AFTER_S });
    const runs = await Promise.all(
      DRAIN_AFTER_S.map(async (after) => {
        const listener = await RawSocket.inet(SOCK_STREAM);
        const sockets = [];
        try {
          await listener.listen(1);
          // Fill the queue (backlog 1 holds 2), then one more client that has to wait.
          for (let i = 0; i < 2; i++) sockets.push((await tryConnect({ port: listener.port }, 1000)).socket);
          const waiting = tryConnect({ port: listener.port }, 30_000);
          await sleep(after * 1000);
          // Start accepting, and keep accepting until the waiting client is in.
          const drain = setInterval(() => listener.acceptAll(), 5);
          const client = await waiting;
          clearInterval(drain);
          sockets.push(client.socket);
          return { drainAfterS: after, outcome: client.outcome, connectS: Math.round(client.ms) / 1000 };
        } finally {
          for (const s of sockets) s.destroy();
          listener.close();
        }
      }),
    );
    const allIn = runs.every((r) => r.outcome === 'connected');
    return {
      parameters: { backlog: 1, queued: 2, drainAfterS: DRAIN_AFTER_S },
      measurements: { runs },
      status: allIn ? 'ok' : 'differs',
      verdict: allIn
        ? `A client that found the queue full connected ${runs.map((r) => `${r.connectS} s`).join(', ')} after trying, when the server began accepting after ${DRAIN_AFTER_S.join(', ')} s: it waited for its next SYN retransmission, and was never refused.`
        : `Not every waiting client got in: ${runs.map((r) => r.outcome).join(', ')}.`,
    };
  },
};
