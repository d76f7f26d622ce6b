import type dgram from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcNet, socketInode } from '../kernel/proc-net.ts';
import { addressKey } from './source-key.ts';
import { type DatagramHooks, type UdpPath, type UdpReader, udpSocketFd } from './types.ts';

// Node's dgram socket, the fallback that runs anywhere: libuv reads the datagrams (up to 32 per
// readiness), Node builds a Buffer and an object for each and calls into JavaScript once per datagram.
export const dgramPath: UdpPath = {
  name: 'dgram',
  take: (socket, hooks) => new DgramReader(socket, hooks),
};

class DgramReader implements UdpReader {
  readonly path = 'dgram';
  readonly fd: number | undefined;
  readonly #socket: dgram.Socket;
  readonly #hooks: DatagramHooks;
  #received = 0;
  #sending = 0;

  constructor(socket: dgram.Socket, hooks: DatagramHooks) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.fd = udpSocketFd(socket);
    socket.on('message', (_message, peer) => this.#onMessage(peer));
  }

  #onMessage(peer: dgram.RemoteInfo): void {
    const hooks = this.#hooks;
    this.#received++;
    hooks.received(1);
    const dropped = hooks.limiter.check(addressKey(peer.address));
    if (dropped !== undefined) {
      hooks.dropped(dropped, 1);
      return;
    }
    // Node throws on port 0 (a forged source); the kernel would refuse it as EINVAL.
    if (peer.port === 0) {
      hooks.error('EINVAL', 1);
      return;
    }
    this.#sending++;
    this.#socket.send(hooks.reply(), peer.port, peer.address, (error) => {
      this.#sending--;
      if (error) hooks.error((error as NodeJS.ErrnoException).code ?? 'UNKNOWN', 1);
      else hooks.served(1);
    });
  }

  // Node reads on its own: wait until the kernel's receive buffer is empty and every reply is sent.
  // Without /proc, an interval with no new datagram stands in for an empty buffer.
  async drain(deadline: number): Promise<void> {
    const inode = this.fd === undefined ? undefined : socketInode(this.fd);
    let last = -1;
    while (Date.now() < deadline) {
      const queued =
        inode === undefined ? undefined : readProcNet('udp')?.find((row) => row.inode === inode)?.rxQueue;
      const empty = queued === 0 || (queued === undefined && this.#received === last);
      if (empty && this.#sending === 0) break;
      last = this.#received;
      await sleep(queued === undefined ? 100 : 10);
    }
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
