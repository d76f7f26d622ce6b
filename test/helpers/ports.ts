import dgram from 'node:dgram';
import net from 'node:net';
import { readProcNet } from '../../src/kernel/proc-net.ts';
import { waitFor } from './proc.ts';

// A port that was free a moment ago, for tools that cannot take port 0 (systemd-socket-activate).
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// A UDP port nothing listens on a moment later (its datagrams get ICMP port unreachable).
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = dgram.createSocket('udp4');
    probe.once('error', reject);
    probe.bind(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

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
