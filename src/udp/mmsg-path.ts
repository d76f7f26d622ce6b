import { setImmediate as nextTurn } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { type DatagramCalls, MMSGHDR, MSG_DONTWAIT } from '../kernel/mmsg-calls.ts';
import { PAUSE_MS, PolledSocket } from '../kernel/polled-socket.ts';
import { EAGAIN, EINTR } from '../kernel/socket-calls.ts';
import { DatagramBatch } from './datagram-batch.ts';
import { type DatagramHooks, type UdpPath, type UdpReader, udpSocketFd } from './types.ts';

// Datagrams in batches: libuv signals that the socket is readable (a uv_poll on a duplicate of the
// descriptor Node bound, as the libc accept path does), and one call into JavaScript then takes up to
// SLOTS datagrams and their source addresses with one recvmmsg, applies the limits to each without a
// Buffer or an object per datagram, and answers those that pass with one sendmmsg. Linux.

// Datagrams per recvmmsg, and recvmmsg calls per readiness: at most SLOTS x CALLS datagrams before the
// loop turns again, so neither TCP nor the timers wait behind a flood. 256 is about what the default
// receive buffer (net.core.rmem_default, 212,992 bytes) holds of empty datagrams (bench/README.md).
const SLOTS = 64;
const CALLS = 4;
// Under a flood readiness comes back as soon as the loop turns, with a datagram or two each time, and
// what a readiness costs (a wake-up, an epoll wait, a call into JavaScript: about 8 µs here) then
// dwarfs what a datagram costs: measured, 118,000 readinesses a second for 1.9 datagrams each, 4.1 µs
// of CPU per datagram. So a readiness that comes within 2 x PACE_MS of the last read is answered, and
// then the socket is left alone for PACE_MS while datagrams gather in the receive buffer: a batch of a
// few hundred a millisecond, 0.7 µs per datagram, and what the buffer cannot hold the kernel drops
// (UdpRcvbufErrors), at the sender's cost. A datagram that comes alone is answered at once.
const PACE_MS = 2;

export function mmsgPath(calls: DatagramCalls): UdpPath {
  return {
    name: 'mmsg',
    take(socket, hooks) {
      const nodeFd = udpSocketFd(socket);
      const fd = nodeFd === undefined ? -1 : calls.dup(nodeFd);
      if (fd < 0) return undefined;
      // The duplicate keeps the socket and whatever waits in its receive buffer.
      socket.close();
      return new MmsgReader(calls, fd, hooks);
    },
  };
}

class MmsgReader implements UdpReader {
  readonly path = 'mmsg';
  readonly #calls: DatagramCalls;
  readonly #hooks: DatagramHooks;
  readonly #batch: DatagramBatch;
  readonly #socket: PolledSocket;
  #closed = false;
  #lastRead = Number.NEGATIVE_INFINITY;

  constructor(calls: DatagramCalls, fd: number, hooks: DatagramHooks) {
    this.#calls = calls;
    this.#hooks = hooks;
    this.#batch = new DatagramBatch(calls, SLOTS);
    this.#socket = new PolledSocket(calls, fd, this.#onReadable);
  }

  readonly #onReadable = (): void => {
    const busy = performance.now() - this.#lastRead < 2 * PACE_MS;
    this.#read(CALLS);
    this.#lastRead = performance.now();
    if (busy) this.#socket.pause(PACE_MS);
  };

  get fd(): number | undefined {
    return this.#closed ? undefined : this.#socket.fd;
  }

  // Up to `maxCalls` receives; true when the last one filled every slot (more may be waiting).
  #read(maxCalls: number): boolean {
    const calls = this.#calls;
    const batch = this.#batch;
    const fd = this.#socket.fd;
    for (let call = 0; call < maxCalls; call++) {
      const count = calls.recvmmsg(fd, batch.receiving, SLOTS, MSG_DONTWAIT, 0);
      if (count < 0) {
        const errno = calls.errno();
        if (errno === EAGAIN) return false;
        if (errno === EINTR) continue;
        this.#hooks.error(getSystemErrorName(-errno), 1);
        this.#socket.pause(PAUSE_MS);
        return false;
      }
      this.#answer(count);
      batch.prepare(count);
      if (count < SLOTS) return false;
    }
    return true;
  }

  // The limits over one batch, then one sendmmsg for the replies that pass.
  #answer(count: number): void {
    const hooks = this.#hooks;
    const limiter = hooks.limiter;
    const batch = this.#batch;
    const now = Date.now();
    let kept = 0;
    let sourceRate = 0;
    let globalRate = 0;
    let tableFull = 0;
    for (let i = 0; i < count; i++) {
      const dropped = limiter.check(batch.source(i), now);
      if (dropped === undefined) batch.keep(i, kept++);
      else if (dropped === 'source_rate') sourceRate++;
      else if (dropped === 'global_rate') globalRate++;
      else tableFull++;
    }
    hooks.received(count);
    if (sourceRate > 0) hooks.dropped('source_rate', sourceRate);
    if (globalRate > 0) hooks.dropped('global_rate', globalRate);
    if (tableFull > 0) hooks.dropped('source_table_full', tableFull);
    if (kept > 0) this.#send(kept);
  }

  #send(count: number): void {
    const calls = this.#calls;
    const hooks = this.#hooks;
    this.#batch.setReply(hooks.reply());
    let at = 0;
    while (at < count) {
      const sent = calls.sendmmsg(
        this.#socket.fd,
        this.#batch.sending + at * MMSGHDR.size,
        count - at,
        MSG_DONTWAIT,
      );
      if (sent > 0) {
        hooks.served(sent);
        at += sent;
        continue;
      }
      const errno = sent < 0 ? calls.errno() : EAGAIN;
      if (errno === EINTR) continue;
      if (errno === EAGAIN) {
        // The send buffer is full: these replies are not sent (Node's dgram would queue them).
        hooks.error('EAGAIN', count - at);
        return;
      }
      // One destination refused (EINVAL for source port 0, EACCES...): count it, send the rest.
      hooks.error(getSystemErrorName(-errno), 1);
      at++;
    }
  }

  async drain(deadline: number): Promise<void> {
    if (this.#closed) return;
    // The service has stopped new datagrams, so the buffer only empties; a turn of the loop between
    // bounded batches keeps TCP's drain and the timers going.
    while (this.#read(CALLS) && Date.now() < deadline) await nextTurn();
    this.#closed = true;
    this.#socket.close();
    this.#batch.free();
  }
}
