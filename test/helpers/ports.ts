import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { readProcNet } from '../../src/kernel/proc-net.ts';
import { waitFor } from './proc.ts';

// Every bind to port 0 and every client's own end get a port from net.ipv4.ip_local_port_range; below
// it, only a program that asks for that very port gets it. The ports below are taken from there, so
// the test files running beside this one (they bind port 0 and connect) cannot land on one meanwhile:
// a port freed after a bind to 0 can be handed out again at once, and a bench "against a closed port"
// then found a server on it.
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32768;
  }
})();

async function unusedPort(protocol: 'tcp' | 'udp', host: string): Promise<number> {
  const low = Math.max(1024, EPHEMERAL_LOW - 16384);
  for (let i = 0; i < 100; i++) {
    const port = low + Math.floor(Math.random() * (EPHEMERAL_LOW - low));
    if (await canBind(protocol, host, port)) return port;
  }
  throw new Error(`no free ${protocol} port from ${low} to ${EPHEMERAL_LOW - 1}`);
}

function canBind(protocol: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
    } else {
      const probe = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      probe.once('error', () => resolve(false));
      probe.bind({ port, address: host, exclusive: true }, () => probe.close(() => resolve(true)));
    }
  });
}

// A TCP port nothing listens on: for tools that cannot take port 0 (systemd-socket-activate, --metrics
// with the port known in advance), and as a closed port (connections refused).
export const freePort = (host = '127.0.0.1') => unusedPort('tcp', host);

// A UDP port nothing has bound (its datagrams get ICMP port unreachable).
export const freeUdpPort = (host = '127.0.0.1') => unusedPort('udp', host);

// Resolves once something listens on 127.0.0.1:PORT (TCP) or has bound it (UDP), from /proc/net: for a
// listener another program makes (systemd-socket-activate), instead of a pause before connecting.
export function bound(port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<unknown> {
  return waitFor(
    () => readProcNet(protocol)?.some((r) => r.port === port && (protocol === 'udp' || r.state === '0A')),
    Boolean,
    `${protocol} port ${port} bound`,
  );
}

// Connections waiting in the accept queue of the listener on PORT (its Recv-Q), from /proc/net/tcp.
export const acceptQueued = (port: number) =>
  readProcNet('tcp')?.find((r) => r.port === port && r.state === '0A')?.rxQueue ?? 0;
