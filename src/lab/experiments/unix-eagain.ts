import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryConnect } from '../clients.ts';
import { RawSocket } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

// The backlog is not TCP's alone: an AF_UNIX stream listener has one too, and a full one answers a
// non-blocking connect at once with EAGAIN instead of dropping anything.
export const unixEagain: Experiment = {
  id: 'unix-eagain',
  title: 'AF_UNIX stream sockets: backlog + 1, then EAGAIN',
  questions: ['Q4'],
  expected: 'backlog + 1 connect, the rest fail at once with EAGAIN',
  async run() {
    const backlog = 2;
    const dir = mkdtempSync(join(tmpdir(), 'daytime-lab-'));
    const path = join(dir, 'listener.sock');
    const listener = await RawSocket.unix(path);
    const sockets = [];
    try {
      await listener.listen(backlog);
      const outcomes = [];
      for (let i = 0; i < backlog + 4; i++) {
        const attempt = await tryConnect({ path }, 500);
        sockets.push(attempt.socket);
        outcomes.push({ outcome: attempt.outcome, ms: Math.round(attempt.ms * 10) / 10 });
      }
      const connected = outcomes.filter((o) => o.outcome === 'connected').length;
      const eagain = outcomes.filter((o) => o.outcome === 'eagain');
      const ok = connected === backlog + 1 && eagain.length === outcomes.length - connected;
      return {
        parameters: { backlog, clients: outcomes.length },
        measurements: { outcomes },
        status: ok ? 'ok' : 'differs',
        verdict: `An AF_UNIX listener with backlog ${backlog} took ${connected} connections; the other ${eagain.length} failed with EAGAIN within ${Math.max(0, ...eagain.map((o) => o.ms))} ms. The backlog applies to every connection-mode socket, and not every family drops silently.`,
      };
    } finally {
      for (const s of sockets) s.destroy();
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
