import net from 'node:net';

export interface RawReply {
  data: Buffer;
}

// A bare TCP client: connect, read everything until the server closes its side, report the bytes.
// Resolves only on that EOF: a reset, or no EOF within timeoutMs, rejects. So a resolved query is
// itself the check that the server closed the connection after its reply.
export function rawQuery(port: number, host = '127.0.0.1', timeoutMs = 60_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no EOF within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks) });
    });
    socket.on('error', reject);
  });
}

// `count` clients that connect at once and wait for their line (a queue to fill on a stopped server);
// served() says how many got data so far.
export function waitingClients(port: number, count: number, host = '127.0.0.1') {
  let served = 0;
  const sockets = Array.from({ length: count }, () =>
    net
      .connect(port, host)
      .on('data', () => {
        served++;
      })
      .on('error', () => {}),
  );
  return {
    served: () => served,
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

// Connects and resets at once (RST instead of FIN), as a crashing or hostile client would.
export function resetClient(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', () => resolve());
  });
}

export const CTIME_LINE =
  /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$/;

// Starts a server and returns the port of its first listener (daytime over TCP).
export async function listenPort(server: { listen(): Promise<{ port: number }[]> }): Promise<number> {
  const [first] = await server.listen();
  if (!first) throw new Error('the server has no listener');
  return first.port;
}
