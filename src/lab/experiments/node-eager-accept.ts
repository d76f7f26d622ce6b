import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readListenQueues } from '../../kernel/listen-queue.ts';
import type { Experiment } from '../types.ts';

const CLIENTS = 30;
const HANDLER_MS = 1000;

// Node (libuv) accepts as soon as a connection is queued, whatever the handler does afterwards, so a
// Node server with a slow async handler keeps its kernel queue empty even with listen(1): the waiting
// happens inside Node, not in the backlog.
export const nodeEagerAccept: Experiment = {
  id: 'node-eager-accept',
  title: 'A Node server with a slow async handler never fills its kernel queue',
  questions: ['Q1', 'Q3'],
  expected: 'ss Recv-Q stays near 0 with backlog 1; every client connects at once',
  async run() {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      setTimeout(() => socket.end('Tue Nov 24 10:00:00 2026\r\n'), HANDLER_MS);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 1, resolve));
    const { port } = server.address() as net.AddressInfo;
    // Clients arrive every 20 ms (a burst inside one instant would overflow any small queue before a
    // loop could run; see the burst experiment); each handler holds its connection for a second, so
    // up to 30 are open inside Node at once.
    const connectMs: number[] = [];
    const clients: net.Socket[] = [];
    let maxQueued = 0;
    for (let i = 0; i < CLIENTS; i++) {
      const started = performance.now();
      const socket = net.connect(port, '127.0.0.1', () => connectMs.push(performance.now() - started));
      socket.on('error', () => {});
      socket.resume();
      clients.push(socket);
      await sleep(20);
      maxQueued = Math.max(maxQueued, (await readListenQueues(port))?.[0]?.queued ?? 0);
    }
    await sleep(100);
    for (const c of clients) c.destroy();
    await new Promise((resolve) => server.close(resolve));
    const slowest = Math.max(0, ...connectMs);
    const open = clients.length;
    return {
      parameters: { backlog: 1, clients: CLIENTS, handlerMs: HANDLER_MS },
      measurements: { connected: connectMs.length, slowestConnectMs: Math.round(slowest), maxQueued },
      status: connectMs.length === CLIENTS && slowest < 500 ? 'ok' : 'differs',
      verdict: `A Node server with listen(1) and a ${HANDLER_MS} ms async handler, ${open} clients 20 ms apart (so up to ${Math.min(open, HANDLER_MS / 20)} open at once): ${connectMs.length} connected, the slowest in ${Math.round(slowest)} ms, and the kernel queue never held more than ${maxQueued}. Node accepts at once, so its backlog only matters while its event loop is blocked.`,
    };
  },
};
