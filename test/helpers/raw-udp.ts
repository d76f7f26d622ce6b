import { loadLibc } from '../../src/kernel/libc.ts';
import { AF_INET, SOCKADDR_IN, writeSockaddr } from '../../src/net/ip.ts';

// Why a forged datagram cannot be sent here; undefined when it can (a raw socket needs root).
export const rawUdpUnavailable = () =>
  process.platform !== 'linux'
    ? 'needs Linux'
    : process.getuid?.() !== 0
      ? 'needs root (a raw socket)'
      : undefined;

// One UDP datagram from source port 0 to 127.0.0.1:PORT, which no ordinary socket can send: a raw
// socket, the UDP header written here (checksum 0: none), the IP header by the kernel.
export async function sendFromPortZero(port: number): Promise<void> {
  const { koffi, lib } = await loadLibc();
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const sendto = lib.func(
    'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
  );
  const close = lib.func('int close(int fd)');
  const fd = socket(AF_INET, 3 /* SOCK_RAW */, 17 /* IPPROTO_UDP */);
  if (fd < 0) throw new Error(`raw socket: errno ${koffi.errno()}`);
  const header = Buffer.alloc(8);
  header.writeUInt16BE(port, 2);
  header.writeUInt16BE(8, 4);
  const address = Buffer.alloc(SOCKADDR_IN);
  writeSockaddr(new DataView(address.buffer, address.byteOffset, SOCKADDR_IN), 0, '127.0.0.1', 0);
  const sent = sendto(fd, header, 8, 0, address, SOCKADDR_IN);
  close(fd);
  if (sent !== 8) throw new Error(`sendto: errno ${koffi.errno()}`);
}
