import { readListenQueues } from '../../kernel/listen-queue.ts';
import { tryConnect } from '../clients.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

// listen() on a socket already listening only changes the backlog (__inet_listen_sk); nginx relies on it.
export const relisten: Experiment = {
  id: 'relisten',
  title: 'listen() again changes the backlog without trimming the queue',
  questions: ['Q1', 'Q3'],
  expected: 'listen(5) with 4 queued, then listen(1): ss 4/1; the next SYN is dropped',
  async run() {
    const listener = await RawSocket.inet(SOCK_STREAM);
    const sockets = [];
    try {
      await listener.listen(5);
      for (let i = 0; i < 4; i++) sockets.push((await tryConnect({ port: listener.port }, 1000)).socket);
      const first = (await readListenQueues(listener.port))?.[0];
      await listener.listen(1);
      const second = (await readListenQueues(listener.port))?.[0];
      const next = await tryConnect({ port: listener.port }, 300);
      sockets.push(next.socket);
      const ok = second?.queued === 4 && second?.backlog === 1 && next.outcome === 'pending';
      return {
        parameters: { firstBacklog: 5, secondBacklog: 1, queued: 4 },
        measurements: { before: first, after: second, nextClient: next.outcome },
        status: ok ? 'ok' : 'differs',
        verdict: `After listen(5) and 4 clients, ss showed ${first?.queued}/${first?.backlog}; after listen(1) on the same socket, ${second?.queued}/${second?.backlog}: the queue kept all 4, and a fifth client was ${next.outcome}.`,
      };
    } finally {
      for (const s of sockets) s.destroy();
      listener.close();
    }
  },
};
