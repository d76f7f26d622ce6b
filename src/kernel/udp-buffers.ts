import { runSs } from './listen-queue.ts';

export interface UdpBuffer {
  inode: number;
  // The most the socket's receive buffer may hold, in bytes (skmem rb: SO_RCVBUF as the kernel keeps
  // it). What waits is charged each datagram's true size, 832 bytes for a small one here.
  receiveBuffer: number;
}

// Parses `ss -Huamne` output: a socket's line, then its skmem line.
export function parseSsUdpMemory(output: string): UdpBuffer[] {
  const rows: UdpBuffer[] = [];
  let inode: number | undefined;
  for (const line of output.split('\n')) {
    const ino = /\bino:(\d+)/.exec(line);
    if (ino) inode = Number(ino[1]);
    const skmem = /skmem:\(r\d+,rb(\d+)/.exec(line);
    if (skmem && inode !== undefined) {
      rows.push({ inode, receiveBuffer: Number(skmem[1]) });
      inode = undefined;
    }
  }
  return rows;
}

// The receive buffers of the UDP sockets on `port`; undefined when `ss` is not installed.
export async function readUdpBuffers(port: number): Promise<UdpBuffer[] | undefined> {
  const output = await runSs(['-Huamne', `sport = :${port}`]);
  return output === undefined ? undefined : parseSsUdpMemory(output);
}
