// Sockets at the system-call level, through libc (koffi), for what net.Server cannot express: a
// listener that never accepts unless told to, backlog 0, listen() again with a new backlog, listen()
// on a UDP socket, AF_UNIX. Linux only.
import { constants } from 'node:os';
import { DaytimeError, systemCode } from '../errors.ts';
import {
  loadSocketCalls,
  type NativeMemory,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SocketCalls,
} from '../kernel/socket-calls.ts';
import { AF_INET, HOST_LE, readSockaddr, setSockaddrFamily, writeSockaddr } from '../net/ip.ts';

export { SOCK_DGRAM, SOCK_STREAM } from '../kernel/socket-calls.ts';

const AF_UNIX = 1;
const { EAGAIN } = constants.errno;
// The errors the lab reports by name; any other as ERRNO_<number>.
const ERRNO_NAMES: Record<number, string> = Object.fromEntries(
  (['EAGAIN', 'EINVAL', 'EOPNOTSUPP', 'EADDRINUSE', 'EACCES'] as const).map((name) => [
    constants.errno[name],
    name,
  ]),
);

export class SyscallError extends DaytimeError {
  readonly errno: number;
  constructor(call: string, errno: number, text: string) {
    const code = ERRNO_NAMES[errno] ?? `ERRNO_${errno}`;
    super(systemCode(code), `${call}: ${text} (${code})`);
    this.errno = errno;
  }
}

function check(calls: SocketCalls, call: string, result: number): number {
  if (result >= 0) return result;
  const errno = calls.errno();
  throw new SyscallError(call, errno, calls.strerror(errno));
}

// sizeof(struct sockaddr_storage), then the socklen_t that says how much of it is used.
const STORAGE = 128;
let scratch: NativeMemory | undefined;

// Native memory for the one address a call passes or gets back, allocated once (the calls are
// synchronous); the room it has is set in its socklen_t.
function addressRoom(calls: SocketCalls): NativeMemory {
  scratch ??= calls.alloc(STORAGE + 4);
  scratch.bytes.fill(0);
  scratch.view.setUint32(STORAGE, STORAGE, HOST_LE);
  return scratch;
}

// A socket made with socket(2) and bound, not yet listening: the lab calls listen() itself.
export class RawSocket {
  readonly fd: number;
  readonly port: number;
  readonly path: string | undefined;
  readonly #calls: SocketCalls;
  #closed = false;

  private constructor(calls: SocketCalls, fd: number, port: number, path?: string) {
    this.#calls = calls;
    this.fd = fd;
    this.port = port;
    this.path = path;
  }

  // TCP (SOCK_STREAM) or UDP (SOCK_DGRAM) on 127.0.0.1, port 0 unless given.
  static async inet(type: number, port = 0): Promise<RawSocket> {
    const calls = await loadSocketCalls();
    const fd = check(calls, 'socket', calls.socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const room = addressRoom(calls);
    try {
      check(calls, 'bind', calls.bind(fd, room.address, writeSockaddr(room.view, 0, '127.0.0.1', port)));
    } catch (error) {
      calls.close(fd);
      throw error;
    }
    const bound = addressRoom(calls);
    check(calls, 'getsockname', calls.getsockname(fd, bound.address, bound.address + STORAGE));
    return new RawSocket(calls, fd, readSockaddr(bound.view, 0)?.port ?? 0);
  }

  // An AF_UNIX stream socket bound to a path (which must not exist).
  static async unix(path: string): Promise<RawSocket> {
    const calls = await loadSocketCalls();
    const fd = check(calls, 'socket', calls.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    // struct sockaddr_un: the family, then the path (108 bytes at most) and its NUL.
    const room = addressRoom(calls);
    setSockaddrFamily(room.view, 0, AF_UNIX);
    const name = Buffer.from(path, 'utf8');
    room.bytes.set(name.subarray(0, 108), 2);
    check(calls, 'bind', calls.bind(fd, room.address, 2 + name.length + 1));
    return new RawSocket(calls, fd, 0, path);
  }

  // listen(2) as is: 0 means 0, and calling it again on a listening socket changes the backlog.
  async listen(backlog: number): Promise<number> {
    return check(this.#calls, 'listen', this.#calls.listen(this.fd, backlog));
  }

  // One accept4(2); the connection is closed at once unless kept. Undefined when the queue is empty.
  acceptOne(): number | undefined {
    const fd = this.#calls.accept4(this.fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    const errno = this.#calls.errno();
    if (errno === EAGAIN) return undefined;
    throw new SyscallError('accept4', errno, this.#calls.strerror(errno));
  }

  // Accepts and closes everything waiting; returns how many.
  acceptAll(): number {
    let count = 0;
    for (;;) {
      const fd = this.acceptOne();
      if (fd === undefined) return count;
      this.#calls.close(fd);
      count++;
    }
  }

  // The port of the client behind an accepted descriptor, to tell which client was taken.
  peerPort(fd: number): number | undefined {
    const room = addressRoom(this.#calls);
    if (this.#calls.getpeername(fd, room.address, room.address + STORAGE) !== 0) return undefined;
    return readSockaddr(room.view, 0)?.port;
  }

  closeFd(fd: number): void {
    this.#calls.close(fd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.close(this.fd);
  }
}
