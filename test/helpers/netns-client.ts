// Run inside a network namespace (ip netns exec NS node netns-client.ts PORT COUNT): COUNT clients
// connect to 127.0.0.1:PORT, then each reads until the server closes; prints one JSON line with the bytes
// each received and how each ended. Blocking libc calls, not Node's sockets: in a namespace where no
// socket ever becomes writable (tcp_notsent_lowat 0), libuv would never see a connect complete, since it
// waits for writability; a blocking connect returns once the handshake is done.
import { loadLibc } from '../../src/kernel/libc.ts';
import { AF_INET, EAGAIN, loadSocketCalls, SOCK_STREAM } from '../../src/kernel/socket-calls.ts';
import { SOCKADDR_IN, writeSockaddr } from '../../src/net/ip.ts';

const [port = 0, count = 1] = process.argv.slice(2).map(Number);
const calls = await loadSocketCalls();
const { lib } = await loadLibc();
const setsockopt = lib.func(
  'int setsockopt(int fd, int level, int name, const void *value, uint32_t length)',
);
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
// struct timeval { 30 s }: a client never waits longer than that for its line or its EOF.
const timeout = Buffer.alloc(16);
timeout.writeBigInt64LE(30n, 0);

const address = calls.alloc(SOCKADDR_IN);
writeSockaddr(address.view, 0, '127.0.0.1', port);
const buffer = calls.alloc(4096);

const clients: (number | string)[] = [];
for (let i = 0; i < count; i++) {
  const fd = calls.socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
  clients.push(calls.connect(fd, address.address, SOCKADDR_IN) === 0 ? fd : `connect errno ${calls.errno()}`);
}
const results = clients.map((fd) => {
  if (typeof fd === 'string') return { bytes: 0, end: fd };
  let bytes = 0;
  for (;;) {
    const n = calls.read(fd, buffer.address, 4096);
    if (n > 0) {
      bytes += n;
      continue;
    }
    const errno = n < 0 ? calls.errno() : 0;
    calls.close(fd);
    return { bytes, end: n === 0 ? 'eof' : errno === EAGAIN ? 'timeout' : `errno ${errno}` };
  }
});
process.stdout.write(`${JSON.stringify(results)}\n`);
