import type net from 'node:net';
import type { SocketCalls } from '../../kernel/socket-calls.ts';
import { formatHostPort, unmapIPv4 } from '../../net/address.ts';
import { trustsAddress } from '../../net/cidr.ts';
import { deferAccept } from './defer-accept.ts';
import { HeaderTable } from './proxy-waiting.ts';
import { type AcceptPath, closeServer, listenerFd, type ProxyRequirement } from './types.ts';

// Behind a balancer, on Node's own accept: a net.Socket per connection, reading until the PROXY header
// is whole (proxy-waiting.ts), then the reply. The fallback where the libc path cannot run. A peer
// outside --proxy-from is closed before anything is read; when too many wait, a newcomer is closed
// ("crowded"), since Node's accept cannot be paused to leave it in the kernel's queue.
export function proxySocketPath(proxy: ProxyRequirement, calls?: SocketCalls): AcceptPath {
  return {
    name: 'proxy-socket',
    take(server, hooks) {
      const fd = listenerFd(server);
      if (calls && fd !== undefined) deferAccept(calls, fd, proxy.timeoutMs);
      const table = new HeaderTable(proxy, hooks);
      server.on('connection', (socket: net.Socket) => {
        const peer = () => formatHostPort(unmapIPv4(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
        if (!trustsAddress(proxy.trust, socket.remoteAddress ?? '')) {
          hooks.refused('untrusted', peer);
          socket.destroy();
        } else if (table.wait() > 0) {
          hooks.refused('crowded', peer);
          socket.destroy();
        } else if (!table.admit()) {
          socket.destroy();
        } else {
          table.take(socket);
        }
      });
      return {
        path: 'proxy-socket',
        fd,
        close: () => closeServer(server),
        destroyAll: () => table.destroyAll(),
      };
    },
  };
}
