import net from 'node:net';
import { fromSystemError } from '../errors.ts';
import type { SocketCalls } from '../kernel/socket-calls.ts';
import { formatHostPort } from '../net/address.ts';
import { dupListeningFd } from '../tcp/accept/accept4.ts';
import { closeServer } from '../tcp/accept/types.ts';
import { udpSocketFd } from '../udp/types.ts';
import { bindUdp } from '../udp/udp-service.ts';

// A socket bound and kept as a bare descriptor, to be served later: by a worker, or by this process once
// it has dropped privileges (--user).

// Node binds and listens (its address handling, dual stack and errors); this process keeps a duplicate
// of the descriptor and closes Node's handle. That happens in the 'listening' callback, before the event
// loop polls, so nothing is ever accepted on Node's handle.
export async function bindHeld(
  calls: SocketCalls,
  where: { host: string | undefined; port: number; backlog?: number; reusePort: boolean },
) {
  const { host, port, backlog, reusePort } = where;
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const at = host === undefined ? `port ${port}` : formatHostPort(host, port);
      const hint =
        error.code === 'EACCES' && port < 1024 ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : '';
      reject(fromSystemError(error, `cannot listen on ${at}`, hint));
    });
    server.listen({ host, port, backlog, reusePort: reusePort || undefined }, resolve);
  });
  const address = server.address() as net.AddressInfo;
  const fd = dupListeningFd(calls, server);
  await closeServer(server);
  if (fd < 0) throw fromSystemError(undefined, 'cannot keep a copy of the listening socket');
  return { fd, address };
}

// The same for UDP: bound as the server binds its own, kept before Node has read a datagram.
export async function bindHeldUdp(
  calls: SocketCalls,
  host: string | undefined,
  port: number,
  reusePort: boolean,
) {
  let fd = -1;
  const address = await bindUdp({ host, port, reusePort }, (socket) => {
    const nodeFd = udpSocketFd(socket);
    fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
    socket.close();
    if (fd < 0) throw fromSystemError(undefined, 'cannot keep a copy of the UDP socket');
  });
  return { fd, address };
}
