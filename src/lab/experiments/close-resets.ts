import { setTimeout as sleep } from 'node:timers/promises';
import { tryConnect } from '../clients.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

// Closing a listener with connections still queued: the kernel resets them (inet_csk_listen_stop).
export const closeResets: Experiment = {
  id: 'close-resets',
  title: 'Closing a listener resets its queued connections',
  questions: ['Q1'],
  expected: 'each queued client gets ECONNRESET',
  async run() {
    const listener = await RawSocket.inet(SOCK_STREAM);
    await listener.listen(5);
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await tryConnect({ port: listener.port }, 1000));
    const outcomes = clients.map((c) => {
      const result = { error: 'none' as string };
      c.socket.on('error', (e: NodeJS.ErrnoException) => {
        result.error = e.code ?? 'error';
      });
      c.socket.on('end', () => {
        if (result.error === 'none') result.error = 'EOF';
      });
      return result;
    });
    listener.close();
    await sleep(300);
    for (const c of clients) c.socket.destroy();
    const errors = outcomes.map((o) => o.error);
    const reset = errors.filter((e) => e === 'ECONNRESET').length;
    return {
      parameters: { backlog: 5, queued: 3 },
      measurements: { connected: clients.map((c) => c.outcome), errors },
      status: reset === 3 ? 'ok' : 'differs',
      verdict: `3 clients waited in the queue; closing the listener gave them ${errors.join(', ')}. A server that stops by closing its listener throws away clients whose handshake had completed (daytime serve drains first).`,
    };
  },
};
