// Runs inside a host's namespace (`ip netns exec ... node forge-agent.js HOST PORT FORGED`): a client on
// the hosts' network that reaches another host directly, past the balancer, and sends a PROXY header
// naming an address of its choosing. Prints one JSON line: the bytes it got back and how it ended.
import net from 'node:net';
import { encodeProxyV1 } from '../protocol/proxy.ts';

const [host = '', port = '13', FORGED = '203.0.113.66'] = process.argv.slice(2);
const socket = net.connect({ host, port: Number(port) });
let bytes = 0;
let end = 'eof';
socket.on('connect', () =>
  socket.write(encodeProxyV1({ address: FORGED, port: 4444 }, { address: host, port: Number(port) })),
);
socket.on('data', (chunk) => {
  bytes += chunk.length;
});
socket.on('error', (error: NodeJS.ErrnoException) => {
  end = error.code ?? 'error';
});
socket.setTimeout(10_000, () => {
  end = 'timeout';
  socket.destroy();
});
socket.on('close', () => process.stdout.write(`${JSON.stringify({ bytes, end })}\n`));
