import { once } from 'node:events';
import net from 'node:net';
import { parseSamples, sampleValue } from '../../bench/lib/prometheus-text.ts';

export async function scrape(port: number, path = '/metrics'): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).text();
}

// The value of one sample in an exposition: `name` with exactly these labels (none: a bare sample).
export const sample = sampleValue;

// Every `_total` sample of an exposition, by its full name with labels.
export function totals(body: string): Map<string, number> {
  return new Map(
    parseSamples(body)
      .filter((s) => s.name.endsWith('_total'))
      .map((s) => [s.series, s.value]),
  );
}

// One HTTP/1.1 connection kept alive, as Prometheus keeps its scrape connections: requests are written
// on it whether or not the server is running at that moment.
export async function keepAlive(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let buffered = Buffer.alloc(0);
  const waiting: { resolve: (body: string) => void; reject: (error: Error) => void }[] = [];
  const fail = () => {
    for (const w of waiting.splice(0)) w.reject(new Error('the metrics connection closed without an answer'));
  };
  socket.on('error', fail);
  socket.on('close', fail);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
      buffered = buffered.subarray(end + 4 + length);
      waiting.shift()?.resolve(`${head.split('\r\n')[0]}\n${body}`);
    }
  });
  return {
    // Resolves with the status line and the body.
    get(path = '/metrics'): Promise<string> {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    close: () => socket.destroy(),
  };
}
