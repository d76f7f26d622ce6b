import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryConnect } from '../clients.ts';
import { RawSocket, SOCK_STREAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

const MESSAGE = 'hello from a queued client\r\n';

// A connection waiting in the accept queue is already a connection: what its client sends is kept in
// its receive buffer and is there when the server finally accepts.
export const queuedData: Experiment = {
  id: 'queued-data',
  title: 'Data sent before accept() arrives intact',
  questions: ['Q1'],
  expected: 'the data is waiting, intact, at accept time',
  async run() {
    const listener = await RawSocket.inet(SOCK_STREAM);
    const client = await (async () => {
      await listener.listen(5);
      return tryConnect({ port: listener.port }, 1000);
    })();
    try {
      client.socket.write(MESSAGE);
      await sleep(300);
      const fd = listener.acceptOne();
      if (fd === undefined) throw new Error('nothing to accept');
      const accepted = new net.Socket({ fd, readable: true, writable: true });
      const received = await new Promise<string>((resolve) => {
        let text = '';
        accepted.on('data', (c: Buffer) => {
          text += c.toString('latin1');
          if (text.length >= MESSAGE.length) resolve(text);
        });
        setTimeout(() => resolve(text), 2000);
      });
      accepted.destroy();
      const intact = received === MESSAGE;
      return {
        parameters: { backlog: 5, delayBeforeAcceptMs: 300, bytes: MESSAGE.length },
        measurements: { connected: client.outcome, received: JSON.stringify(received), intact },
        status: intact ? 'ok' : 'differs',
        verdict: intact
          ? `The client connected and sent ${MESSAGE.length} bytes 300 ms before the server called accept(); they were all there, intact, at accept time. The backlog does not limit receiving data.`
          : `The data sent before accept() came back as ${JSON.stringify(received)}.`,
      };
    } finally {
      client.socket.destroy();
      listener.close();
    }
  },
};
