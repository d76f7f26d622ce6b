import { lookup } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readListenQueues } from '../kernel/listen-queue.ts';
import { readKernelCounters } from '../kernel/netstat.ts';
import { readProcNet } from '../kernel/proc-net.ts';
import { readUdpBuffers } from '../kernel/udp-buffers.ts';
import { formatHostPort, unmapIPv4 } from '../net/address.ts';

export interface WatchedTcpListener {
  local: string;
  // Connections waiting for accept().
  queued: number;
  // Effective backlog; undefined when read from /proc (it is not there).
  backlog: number | undefined;
}

export interface WatchedUdpSocket {
  local: string;
  inode: number;
  // Bytes waiting in the receive buffer: what the datagrams waiting are charged (832 bytes for a
  // small one on this kernel; the kernel keeps no count of datagrams).
  queuedBytes: number;
  // The most it may hold (SO_RCVBUF, from ss); undefined without ss.
  receiveBuffer: number | undefined;
  // Datagrams this socket dropped since it was created, and a second since the previous sample.
  drops: number | undefined;
  dropsPerSecond: number | undefined;
}

export interface WatchSample {
  time: string;
  // The host asked for, when one was: only the sockets that take its connections are listed.
  host?: string;
  port: number;
  // Where the TCP rows came from: ss shows the backlog, /proc/net/tcp does not.
  source: 'ss' | 'proc' | 'none';
  tcp: WatchedTcpListener[];
  udp: WatchedUdpSocket[];
  // Per-second rates of the namespace-wide counters since the previous sample (undefined on the first).
  perSecond: { listenOverflows?: number; listenDrops?: number; udpRcvbufErrors?: number };
}

export interface WatchOptions {
  // A name or an address: only the sockets bound to one of its addresses, or to every address (they
  // take its connections too), are listed. Undefined: every socket on the port.
  host?: string;
  port: number;
  intervalMs?: number;
  // Stop after this many samples; forever (until the signal) when undefined.
  count?: number;
  signal?: AbortSignal;
  onSample: (sample: WatchSample) => void;
}

const COUNTERS = {
  listenOverflows: 'TcpExtListenOverflows',
  listenDrops: 'TcpExtListenDrops',
  udpRcvbufErrors: 'UdpRcvbufErrors',
} as const;

const rate = (delta: number, seconds: number) => Math.round((delta / seconds) * 10) / 10;

// Samples every listening socket on a port and the kernel's overflow counters, once an interval.
export async function watchQueue({
  host,
  port,
  intervalMs = 1000,
  count,
  signal,
  onSample,
}: WatchOptions): Promise<void> {
  const bound = await boundTo(host);
  let previous: { at: number; counters: Record<string, number> } | undefined;
  let previousDrops: { at: number; byInode: Map<number, number> } | undefined;
  for (let n = 0; count === undefined || n < count; n++) {
    if (signal?.aborted) return;
    if (n > 0) {
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        return;
      }
    }
    const at = performance.now();
    const counters = readKernelCounters();
    const perSecond: WatchSample['perSecond'] = {};
    if (previous && counters) {
      const seconds = (at - previous.at) / 1000;
      for (const [name, key] of Object.entries(COUNTERS)) {
        const now = counters[key];
        const before = previous.counters[key];
        if (now !== undefined && before !== undefined) {
          perSecond[name as keyof typeof COUNTERS] = rate(now - before, seconds);
        }
      }
    }
    if (counters) previous = { at, counters };
    const udp = (await readUdp(port)).filter((socket) => bound(socket.local));
    for (const socket of udp) {
      const before = previousDrops?.byInode.get(socket.inode);
      if (previousDrops && before !== undefined && socket.drops !== undefined)
        socket.dropsPerSecond = rate(socket.drops - before, (at - previousDrops.at) / 1000);
    }
    previousDrops = { at, byInode: new Map(udp.map((s) => [s.inode, s.drops ?? 0])) };
    const { source, tcp } = await readTcp(port);
    onSample({
      time: new Date().toISOString(),
      ...(host === undefined ? {} : { host }),
      port,
      source,
      tcp: tcp.filter((listener) => bound(listener.local)),
      udp,
      perSecond,
    });
  }
}

async function readTcp(port: number): Promise<Pick<WatchSample, 'source' | 'tcp'>> {
  const ss = await readListenQueues(port);
  if (ss) return { source: 'ss', tcp: ss.map(({ local, queued, backlog }) => ({ local, queued, backlog })) };
  const proc = readProcNet('tcp');
  if (!proc) return { source: 'none', tcp: [] };
  return {
    source: 'proc',
    tcp: proc
      .filter((row) => row.port === port && row.state === '0A')
      .map((row) => ({ local: formatHostPort(row.local, port), queued: row.rxQueue, backlog: undefined })),
  };
}

async function readUdp(port: number): Promise<WatchedUdpSocket[]> {
  const buffers = await readUdpBuffers(port);
  return (readProcNet('udp') ?? [])
    .filter((row) => row.port === port)
    .map((row) => ({
      local: formatHostPort(row.local, port),
      inode: row.inode,
      queuedBytes: row.rxQueue,
      receiveBuffer: buffers?.find((b) => b.inode === row.inode)?.receiveBuffer,
      drops: row.drops,
      dropsPerSecond: undefined,
    }));
}

const EVERY_ADDRESS = ['*', '0.0.0.0', '::'];

// Whether a socket's local address ("127.0.0.1:9999", "[::]:9999", "*:9999", "[::1%lo]:9999") is one
// HOST's connections reach: one of HOST's addresses (resolved once), or every address.
async function boundTo(host: string | undefined): Promise<(local: string) => boolean> {
  if (host === undefined) return () => true;
  const addresses = (await lookup(host, { all: true })).map((a) => a.address);
  return (local) => {
    const address = unmapIPv4(
      local
        .slice(0, local.lastIndexOf(':'))
        .replace(/^\[|\]$/g, '')
        .split('%')[0] ?? '',
    );
    return EVERY_ADDRESS.includes(address) || addresses.includes(address);
  };
}
