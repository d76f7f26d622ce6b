import { formatHostPort } from '../net/address.ts';
import type { WatchSample } from './watch-queue.ts';

const rate = (n: number | undefined) => (n === undefined ? '-' : `${n}/s`);

// A block of lines for one sample: one row per listening socket, then the counters.
export function formatWatchSample(sample: WatchSample): string {
  const where = sample.host === undefined ? `port ${sample.port}` : formatHostPort(sample.host, sample.port);
  const lines = [
    `${sample.time}  ${where}  (${sample.source === 'proc' ? '/proc/net/tcp: no backlog' : sample.source})`,
  ];
  if (sample.tcp.length === 0 && sample.udp.length === 0) lines.push('  nothing listens on this port');
  for (const l of sample.tcp) {
    const full = l.backlog !== undefined && l.queued > l.backlog ? '  FULL' : '';
    lines.push(
      `  tcp ${l.local.padEnd(28)} queue ${String(l.queued).padStart(5)} / backlog ${l.backlog ?? '?'}${full}`,
    );
  }
  for (const u of sample.udp) {
    const room = u.receiveBuffer === undefined ? '' : ` of ${u.receiveBuffer}`;
    const dropping = (u.dropsPerSecond ?? 0) > 0 ? '  DROPPING' : '';
    lines.push(
      `  udp ${u.local.padEnd(28)} ${u.queuedBytes}${room} bytes waiting, ${u.drops ?? '?'} dropped (${rate(u.dropsPerSecond)})${dropping}`,
    );
  }
  const p = sample.perSecond;
  lines.push(
    `  ListenOverflows ${rate(p.listenOverflows)}  ListenDrops ${rate(p.listenDrops)}  UdpRcvbufErrors ${rate(p.udpRcvbufErrors)}  (whole namespace)`,
  );
  return `${lines.join('\n')}\n`;
}
