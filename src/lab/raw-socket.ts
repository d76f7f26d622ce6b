// Sockets at the system-call level, through libc (koffi), for what net.Server cannot express: a
// listener that never accepts unless told to, backlog 0, listen() again with a new backlog, listen()
// on a UDP socket, AF_UNIX. Linux only.
import { DaytimeError, systemCode } from '../errors.ts';
import { loadLibc } from '../kernel/libc.ts';

const AF_UNIX = 1;
const AF_INET = 2;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, length: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number, addr: null, length: null, flags: number): number;
  close(fd: number): number;
  getsockname(fd: number, addr: Buffer, length: number[]): number;
  getpeername(fd: number, addr: Buffer, length: number[]): number;
  errno(): number;
  strerror(errno: number): string;
}

let libc: Promise<Libc> | undefined;

function apiLoaded(): Promise<Libc> {
  libc ??= bindLibc();
  return libc;
}

async function bindLibc(): Promise<Libc> {
  const { koffi, lib } = await loadLibc();
  const fn = (signature: string) => lib.func(signature) as (...args: unknown[]) => number;
  const socket = fn('int socket(int domain, int type, int protocol)');
  const bind = fn('int bind(int fd, const void *addr, uint32_t length)');
  const listen = fn('int listen(int fd, int backlog)');
  const accept4 = fn('int accept4(int fd, void *addr, void *length, int flags)');
  const close = fn('int close(int fd)');
  const getsockname = fn('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *length)');
  const getpeername = fn('int getpeername(int fd, _Out_ void *addr, _Inout_ uint32_t *length)');
  const strerror = lib.func('const char *strerror(int errnum)') as (n: number) => string;
  return {
    socket: (d, t, p) => socket(d, t, p),
    bind: (fd, addr, length) => bind(fd, addr, length),
    listen: (fd, backlog) => listen(fd, backlog),
    accept4: (fd, a, l, flags) => accept4(fd, a, l, flags),
    close: (fd) => close(fd),
    getsockname: (fd, addr, length) => getsockname(fd, addr, length),
    getpeername: (fd, addr, length) => getpeername(fd, addr, length),
    errno: () => koffi.errno(),
    strerror,
  };
}

const ERRNO_NAMES: Record<number, string> = {
  11: 'EAGAIN',
  22: 'EINVAL',
  95: 'EOPNOTSUPP',
  98: 'EADDRINUSE',
  13: 'EACCES',
};

export class SyscallError extends DaytimeError {
  readonly errno: number;
  constructor(call: string, errno: number, text: string) {
    const code = ERRNO_NAMES[errno] ?? `ERRNO_${errno}`;
    super(systemCode(code), `${call}: ${text} (${code})`);
    this.errno = errno;
  }
}

async function check(api: Libc, call: string, result: number): Promise<number> {
  if (result >= 0) return result;
  const errno = api.errno();
  throw new SyscallError(call, errno, api.strerror(errno));
}

// A socket made with socket(2) and bound, not yet listening: the lab calls listen() itself.
export class RawSocket {
  readonly fd: number;
  readonly port: number;
  readonly path: string | undefined;
  readonly #api: Libc;
  #closed = false;

  private constructor(api: Libc, fd: number, port: number, path?: string) {
    this.#api = api;
    this.fd = fd;
    this.port = port;
    this.path = path;
  }

  // TCP (SOCK_STREAM) or UDP (SOCK_DGRAM) on 127.0.0.1, port 0 unless given.
  static async inet(type: number, port = 0): Promise<RawSocket> {
    const api = await apiLoaded();
    const fd = await check(api, 'socket', api.socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const addr = Buffer.alloc(16);
    addr.writeUInt16LE(AF_INET, 0);
    addr.writeUInt16BE(port, 2);
    addr.writeUInt32BE(0x7f000001, 4);
    await check(api, 'bind', api.bind(fd, addr, 16)).catch((error) => {
      api.close(fd);
      throw error;
    });
    const out = Buffer.alloc(16);
    await check(api, 'getsockname', api.getsockname(fd, out, [16]));
    return new RawSocket(api, fd, out.readUInt16BE(2));
  }

  // An AF_UNIX stream socket bound to a path (which must not exist).
  static async unix(path: string): Promise<RawSocket> {
    const api = await apiLoaded();
    const fd = await check(api, 'socket', api.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    addr.write(path, 2, 'utf8');
    await check(api, 'bind', api.bind(fd, addr, 2 + Buffer.byteLength(path) + 1));
    return new RawSocket(api, fd, 0, path);
  }

  // listen(2) as is: 0 means 0, and calling it again on a listening socket changes the backlog.
  listen(backlog: number): Promise<number> {
    return check(this.#api, 'listen', this.#api.listen(this.fd, backlog));
  }

  // One accept4(2); the connection is closed at once unless kept. Undefined when the queue is empty.
  acceptOne(): number | undefined {
    const fd = this.#api.accept4(this.fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    const errno = this.#api.errno();
    if (errno === 11) return undefined;
    throw new SyscallError('accept4', errno, this.#api.strerror(errno));
  }

  // Accepts and closes everything waiting; returns how many.
  acceptAll(): number {
    let count = 0;
    for (;;) {
      const fd = this.acceptOne();
      if (fd === undefined) return count;
      this.#api.close(fd);
      count++;
    }
  }

  // The port of the client behind an accepted descriptor (IPv4), to tell which client was taken.
  peerPort(fd: number): number | undefined {
    const out = Buffer.alloc(16);
    return this.#api.getpeername(fd, out, [16]) === 0 ? out.readUInt16BE(2) : undefined;
  }

  closeFd(fd: number): void {
    this.#api.close(fd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#api.close(this.fd);
  }
}
