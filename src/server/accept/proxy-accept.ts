import { getSystemErrorName } from 'node:util';
import { EAGAIN, EINTR, SOCK_CLOEXEC, SOCK_NONBLOCK, type SocketCalls } from '../../kernel/socket-calls.ts';

const ECONNABORTED = 103;
const PAUSE_MS = 100;

export interface AcceptWhileRoom {
  // 0 when a connection may be taken now, else how many ms to leave them in the kernel's queue.
  wait(): number;
  socket(fd: number): void;
  error(code: string): void;
}

// Accepts through libc while the caller has room, and otherwise stops asking: the connections stay in
// the kernel's accept queue (no descriptor of ours) until room is made. Node's own accept cannot be
// paused, which is why the proxy path takes the listening descriptor over where koffi loads.
export function acceptWhileRoom(calls: SocketCalls, fd: number, to: AcceptWhileRoom): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const later = (ms: number) => {
    poll.stop();
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) poll.start({ readable: true }, onReadable);
    }, ms);
  };
  const onReadable = () => {
    for (;;) {
      const wait = to.wait();
      if (wait > 0) return later(wait);
      const client = calls.accept4(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client >= 0) {
        to.socket(client);
        continue;
      }
      const errno = calls.errno();
      if (errno === EAGAIN) return;
      if (errno === EINTR || errno === ECONNABORTED) continue;
      to.error(getSystemErrorName(-errno));
      return later(PAUSE_MS);
    }
  };
  const poll = calls.poll(fd, { readable: true }, onReadable);
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      poll.close();
      calls.close(fd);
    },
  };
}
