import net from 'node:net';
import { readListenQueues } from '../../kernel/listen-queue.ts';
import type { Experiment } from '../types.ts';

// What Node makes of the backlog argument: `this._handle.listen(backlog || 511)` in lib/net.js.
export const nodeBacklog: Experiment = {
  id: 'node-backlog',
  title: "Node's listen(): 0 becomes 511",
  questions: ['Q2', 'Q3'],
  expected: 'backlog 0, {backlog: 0} and no backlog all give Send-Q 511',
  async run() {
    const forms: [string, (s: net.Server, done: () => void) => void][] = [
      ["listen(0, '127.0.0.1', 0)", (s, done) => s.listen(0, '127.0.0.1', 0, done)],
      [
        "listen({ port: 0, host: '127.0.0.1', backlog: 0 })",
        (s, done) => s.listen({ port: 0, host: '127.0.0.1', backlog: 0 }, done),
      ],
      ["listen(0, '127.0.0.1')", (s, done) => s.listen(0, '127.0.0.1', done)],
      ["listen(0, '127.0.0.1', 5)", (s, done) => s.listen(0, '127.0.0.1', 5, done)],
    ];
    const rows: { form: string; ssBacklog: number | undefined }[] = [];
    for (const [form, listen] of forms) {
      const server = net.createServer();
      await new Promise<void>((resolve) => listen(server, resolve));
      const { port } = server.address() as net.AddressInfo;
      rows.push({ form, ssBacklog: (await readListenQueues(port))?.[0]?.backlog });
      await new Promise((resolve) => server.close(resolve));
    }
    const zeroIs511 = rows.slice(0, 3).every((r) => r.ssBacklog === 511);
    return {
      parameters: { node: process.version },
      measurements: { rows },
      status: zeroIs511 && rows[3]?.ssBacklog === 5 ? 'ok' : 'differs',
      verdict: `In Node ${process.version}: ${rows.map((r) => `${r.form} → ${r.ssBacklog ?? '?'}`).join('; ')}. A 0 passed to Node never reaches the kernel as 0.`,
    };
  },
};
