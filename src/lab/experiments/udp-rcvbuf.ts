import dgram from 'node:dgram';
import { counterDelta, readKernelCounters } from '../../kernel/netstat.ts';
import { readProcNet, socketInode } from '../../kernel/proc-net.ts';
import { RawSocket, SOCK_DGRAM } from '../raw-socket.ts';
import type { Experiment } from '../types.ts';

const DATAGRAMS = 2000;
const SIZE = 100;

// UDP's only queue is the socket's receive buffer: a receiver that does not read keeps what fits and
// the kernel drops the rest, counted as RcvbufErrors (and in the socket's own drops column).
export const udpRcvbuf: Experiment = {
  id: 'udp-rcvbuf',
  title: "UDP's limit is the receive buffer",
  questions: ['Q4'],
  expected: 'most of 2000 datagrams dropped, counted as UdpRcvbufErrors',
  counters: ['UdpRcvbufErrors'],
  async run() {
    const receiver = await RawSocket.inet(SOCK_DGRAM);
    const sender = dgram.createSocket('udp4');
    try {
      const before = readKernelCounters();
      const payload = Buffer.alloc(SIZE, 0x61);
      for (let sent = 0; sent < DATAGRAMS; sent += 100) {
        await Promise.all(
          Array.from(
            { length: 100 },
            () => new Promise((r) => sender.send(payload, receiver.port, '127.0.0.1', r)),
          ),
        );
      }
      const after = readKernelCounters();
      const inode = socketInode(receiver.fd);
      const row = readProcNet('udp')?.find((r) => r.inode === inode);
      const rcvbufErrors = counterDelta(before, after, 'UdpRcvbufErrors') ?? 0;
      const drops = row?.drops ?? null;
      const queuedBytes = row?.rxQueue ?? null;
      const kept = drops === null ? null : DATAGRAMS - drops;
      return {
        parameters: { datagrams: DATAGRAMS, bytes: SIZE },
        measurements: { kept, socketDrops: drops, queuedBytes, udpRcvbufErrorsDelta: rcvbufErrors },
        status: (drops ?? 0) > 0 && rcvbufErrors >= (drops ?? 0) ? 'ok' : 'differs',
        verdict: `${DATAGRAMS} datagrams of ${SIZE} bytes to a UDP socket that never reads: it kept ${kept ?? '?'} (${queuedBytes ?? '?'} bytes of buffer, counted with overhead), the kernel dropped ${drops ?? '?'}, and UdpRcvbufErrors rose by ${rcvbufErrors}. No backlog, no listen(): the receive buffer is the queue.`,
      };
    } finally {
      sender.close();
      receiver.close();
    }
  },
};
