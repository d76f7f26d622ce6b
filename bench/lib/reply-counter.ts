// Counts the UDP datagrams sent from PORT, by destination address, as the kernel delivers them: a raw
// socket (a copy of every UDP datagram delivered in this network namespace) with a classic BPF filter
// that keeps those whose source port is PORT, so a flood costs it nothing. Independent of the server's
// own counters. Run inside the namespace: node bench/lib/reply-counter.ts PORT; on SIGTERM it prints
// {"127.0.0.2": n, ...} on stdout and exits.
import { loadLibc } from '../../src/kernel/libc.ts';
import { AF_INET, EAGAIN, loadSocketCalls, SOCK_NONBLOCK } from '../../src/kernel/socket-calls.ts';

const port = Number(process.argv[2]);
const SOCK_RAW = 3;
const IPPROTO_UDP = 17;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const calls = await loadSocketCalls();
const { lib } = await loadLibc();
const setsockopt = lib.func('int setsockopt(int fd, int level, int name, intptr_t value, uint32_t length)');
const fd = calls.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_UDP);
if (fd < 0) throw new Error(`raw socket: errno ${calls.errno()}`);
// ldxb 4*([0]&0xf); ldh [x+0] (the UDP source port); jeq #port, keep, drop
const program: [number, number, number, number][] = [
  [0xb1, 0, 0, 0],
  [0x48, 0, 0, 0],
  [0x15, 0, 1, port],
  [0x06, 0, 0, 0xffff],
  [0x06, 0, 0, 0],
];
const filter = calls.alloc(16 + program.length * 8);
for (const [i, [code, jt, jf, k]] of program.entries()) {
  filter.view.setUint16(16 + i * 8, code, true);
  filter.view.setUint8(16 + i * 8 + 2, jt);
  filter.view.setUint8(16 + i * 8 + 3, jf);
  filter.view.setUint32(16 + i * 8 + 4, k, true);
}
filter.view.setUint16(0, program.length, true);
filter.view.setBigUint64(8, BigInt(filter.address + 16), true);
if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, filter.address, 16) !== 0)
  throw new Error(`SO_ATTACH_FILTER: errno ${calls.errno()}`);
const packet = calls.alloc(2048);
const counts = new Map<number, number>();
const poll = calls.poll(fd, { readable: true }, () => {
  for (;;) {
    const n = calls.read(fd, packet.address, 2048);
    if (n < 0) {
      if (calls.errno() === EAGAIN) return;
      throw new Error(`read: errno ${calls.errno()}`);
    }
    const destination = packet.view.getUint32(16);
    counts.set(destination, (counts.get(destination) ?? 0) + 1);
  }
});
process.once('SIGTERM', () => {
  poll.close();
  const text = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  process.stdout.write(`${JSON.stringify(Object.fromEntries([...counts].map(([a, n]) => [text(a), n])))}\n`);
  process.exit(0);
});
process.stdout.write('ready\n');
