import { readFileSync, readlinkSync } from 'node:fs';
import { formatIPv4, formatIPv6, HOST_LE, readIPv6 } from '../net/ip.ts';

export interface ProcSocketRow {
  local: string;
  port: number;
  // Hex state from the kernel: 0A is LISTEN.
  state: string;
  // For a LISTEN socket, the accept-queue length (sk_ack_backlog); for UDP, bytes waiting.
  rxQueue: number;
  inode: number;
  // Who made the socket (its owner's uid), whoever holds it now.
  uid: number;
  family: 4 | 6;
  // UDP only: datagrams this socket dropped (receive buffer full, among others).
  drops: number | undefined;
}

// /proc/net prints addresses as the kernel stores them, each 32-bit word as a hex number in host
// order: "0100007F" is 127.0.0.1 on a little-endian machine. The text is what ss shows (inet_ntop's).
export function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const view = new DataView(new ArrayBuffer(4 * words.length));
  for (const [i, word] of words.entries()) view.setUint32(4 * i, Number.parseInt(word, 16), HOST_LE);
  return words.length === 1 ? formatIPv4(view.getUint32(0)) : formatIPv6(readIPv6(view, 0));
}

// Rows of /proc/net/{tcp,tcp6,udp,udp6}. The backlog itself is not there (ss shows it as Send-Q).
export function parseProcNet(text: string, family: 4 | 6 = 4): ProcSocketRow[] {
  const rows: ProcSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [address = '', port = '0'] = (cols[1] ?? '').split(':');
    const [, rx = '0'] = (cols[4] ?? '').split(':');
    rows.push({
      local: decodeProcAddress(address),
      port: Number.parseInt(port, 16),
      state: cols[3] ?? '',
      rxQueue: Number.parseInt(rx, 16),
      inode: Number(cols[9]),
      uid: Number(cols[7]),
      family,
      drops: cols[12] === undefined ? undefined : Number(cols[12]),
    });
  }
  return rows;
}

export function readProcNet(protocol: 'tcp' | 'udp'): ProcSocketRow[] | undefined {
  try {
    const rows = parseProcNet(readFileSync(`/proc/net/${protocol}`, 'utf8'));
    try {
      rows.push(...parseProcNet(readFileSync(`/proc/net/${protocol}6`, 'utf8'), 6));
    } catch {
      // No IPv6 in this kernel or namespace.
    }
    return rows;
  } catch {
    return undefined;
  }
}

// The socket inode behind one of our descriptors, to find that very socket in /proc/net or ss.
export function socketInode(fd: number): number | undefined {
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// Connections waiting in one listener's accept queue; undefined without /proc.
export function acceptQueueLength(fd: number): number | undefined {
  const inode = socketInode(fd);
  if (inode === undefined) return undefined;
  return readProcNet('tcp')?.find((row) => row.inode === inode)?.rxQueue;
}

// The IPv4 connections on a local port, by the peer's port → the kernel's hex state (01 ESTABLISHED,
// 03 SYN_RECV for a request waiting for its ACK). A pattern over the text, not a parse of every row:
// the playground reads this many times a second.
export function peersOfPort(port: number, text = readTcp4()): Map<number, string> {
  const local = port.toString(16).toUpperCase().padStart(4, '0');
  const row = new RegExp(`^\\s*\\d+: [0-9A-F]{8}:${local} [0-9A-F]{8}:([0-9A-F]{4}) ([0-9A-F]{2})`, 'gm');
  const peers = new Map<number, string>();
  for (const match of text.matchAll(row)) {
    const peer = Number.parseInt(match[1] as string, 16);
    if (peer !== 0) peers.set(peer, match[2] as string);
  }
  return peers;
}

function readTcp4(): string {
  try {
    return readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return '';
  }
}
