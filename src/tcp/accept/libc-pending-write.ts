import { getSystemErrorName } from 'node:util';
import { EAGAIN, EINTR, type SocketCalls } from '../../kernel/socket-calls.ts';
import type { ConnectionHooks } from './types.ts';

// The rest of a reply that write() could not take at once: the descriptor waits for room in its send
// buffer on a uv_poll of its own, under the service's write timeout (which calls the close it is given).
// A fresh connection's empty send buffer takes a daytime line whole, so this path is the exception;
// it exists so that a peer whose window stays shut cannot hold a descriptor past the timeout.
export function waitToWrite(
  calls: SocketCalls,
  hooks: Pick<ConnectionHooks, 'pending' | 'served' | 'error' | 'closed'>,
  fd: number,
  rest: Uint8Array,
): void {
  const memory = calls.alloc(rest.length);
  memory.bytes.set(rest);
  let offset = 0;
  let open = true;
  const finish = () => {
    if (!open) return;
    open = false;
    poll.close();
    calls.close(fd);
    memory.free();
    release();
    hooks.closed();
  };
  const poll = calls.poll(fd, { writable: true }, () => {
    if (!open) return;
    const written = calls.write(fd, memory.address + offset, rest.length - offset);
    if (written < 0) {
      const errno = calls.errno();
      if (errno === EAGAIN || errno === EINTR) return;
      hooks.error(getSystemErrorName(-errno));
      finish();
      return;
    }
    offset += written;
    if (offset < rest.length) return;
    hooks.served();
    finish();
  });
  // The service holds `finish` (and through it the poll handle, which must stay reachable: koffi closes
  // a poll handle that is garbage-collected).
  const release = hooks.pending(finish);
}
