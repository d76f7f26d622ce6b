import { readListenQueues } from '../../kernel/listen-queue.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

// The kernel clamps every backlog to net.core.somaxconn, silently, and takes -1 to mean "the maximum".
export const somaxconnClamp: Experiment = {
  id: 'somaxconn-clamp',
  title: 'The somaxconn clamp',
  questions: ['Q3'],
  expected: 'Send-Q = somaxconn (4096 since Linux 5.4) for any larger backlog and for -1',
  async run({ somaxconn }) {
    const asked = [(somaxconn ?? 4096) + 100, 65535, -1];
    const rows: { asked: number; ssBacklog: number | undefined }[] = [];
    for (const backlog of asked) {
      const listener = await RawSocket.inet(SOCK_STREAM);
      try {
        await listener.listen(backlog);
        rows.push({ asked: backlog, ssBacklog: (await readListenQueues(listener.port))?.[0]?.backlog });
      } finally {
        listener.close();
      }
    }
    const clamped = somaxconn !== undefined && rows.every((r) => r.ssBacklog === somaxconn);
    const seen = rows.map((r) => `listen(${r.asked}) → ${r.ssBacklog ?? '?'}`).join(', ');
    return {
      parameters: { asked },
      measurements: { somaxconn, rows },
      status: rows.some((r) => r.ssBacklog === undefined) ? 'differs' : clamped ? 'ok' : 'differs',
      verdict:
        `net.core.somaxconn is ${somaxconn ?? 'unknown'} here; ${seen}. ` +
        (clamped
          ? 'Every larger backlog, and -1, became somaxconn, without an error: the limit is not "1 to 5" but this sysctl.'
          : 'The kernel did not clamp as expected (or ss is missing).'),
    };
  },
};
