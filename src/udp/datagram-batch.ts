import { endianness } from 'node:os';
import { IOVEC, MMSGHDR, SOCKADDR_IN6 } from '../kernel/mmsg-calls.ts';
import type { NativeMemory, SocketCalls } from '../kernel/socket-calls.ts';
import type { SourceKey } from './rate-limit.ts';
import { sockaddrKey } from './source-key.ts';

// Room for the longest reply (an RFC 2822 line is 33 bytes with its CRLF).
const REPLY_ROOM = 128;
const ADDRESS_SLOT = 32;
// The structures' integers and pointers are in host byte order.
const LE = endianness() === 'LE';

// The native memory of the batched UDP path, allocated once per socket: `slots` mmsghdrs to receive
// into, as many to send from, an address slot each, one iovec and the reply. Datagrams are received
// with no buffer at all: a datagram longer than the room given is truncated, and still consumed whole,
// so its content (which a time server ignores) is never copied. A reply goes to the address slot its
// datagram came from; all replies share the one iovec.
export class DatagramBatch {
  readonly slots: number;
  // Addresses of the two mmsghdr vectors, for recvmmsg and sendmmsg.
  readonly receiving: number;
  readonly sending: number;
  readonly #memory: NativeMemory;
  readonly #view: DataView;
  readonly #addresses: number;
  readonly #iov: number;
  readonly #reply: number;
  #replySource: Buffer | undefined;

  constructor(calls: SocketCalls, slots: number) {
    this.slots = slots;
    const vector = slots * MMSGHDR.size;
    this.#addresses = 2 * vector;
    this.#iov = this.#addresses + slots * ADDRESS_SLOT;
    this.#reply = this.#iov + IOVEC.size;
    this.#memory = calls.alloc(this.#reply + REPLY_ROOM);
    this.#memory.bytes.fill(0);
    this.#view = this.#memory.view;
    const base = this.#memory.address;
    this.receiving = base;
    this.sending = base + vector;
    const pointer = (at: number, address: number) => this.#view.setBigUint64(at, BigInt(address), LE);
    pointer(this.#iov + IOVEC.base, base + this.#reply);
    for (let i = 0; i < slots; i++) {
      const address = base + this.#addresses + i * ADDRESS_SLOT;
      const received = i * MMSGHDR.size;
      pointer(received + MMSGHDR.name, address);
      const sent = vector + i * MMSGHDR.size;
      pointer(sent + MMSGHDR.name, address);
      pointer(sent + MMSGHDR.iov, base + this.#iov);
      this.#view.setBigUint64(sent + MMSGHDR.iovLength, 1n, LE);
    }
    this.prepare(slots);
  }

  // Before a receive: the room each of the first `count` slots has for its source address (the kernel
  // writes back the length it used).
  prepare(count: number): void {
    const view = this.#view;
    for (let i = 0; i < count; i++) view.setUint32(i * MMSGHDR.size + MMSGHDR.nameLength, SOCKADDR_IN6, LE);
  }

  // The source of received datagram `i`, as the limiter keys it.
  source(i: number): SourceKey {
    return sockaddrKey(this.#view, this.#addresses + i * ADDRESS_SLOT);
  }

  // Reply `j` goes where datagram `i` came from (j <= i: replies are packed at the front).
  keep(i: number, j: number): void {
    const view = this.#view;
    if (i !== j) {
      const from = this.#addresses + i * ADDRESS_SLOT;
      this.#memory.bytes.copyWithin(this.#addresses + j * ADDRESS_SLOT, from, from + SOCKADDR_IN6);
    }
    const length = view.getUint32(i * MMSGHDR.size + MMSGHDR.nameLength, LE);
    view.setUint32(this.slots * MMSGHDR.size + j * MMSGHDR.size + MMSGHDR.nameLength, length, LE);
  }

  // The reply every kept datagram gets; copied into native memory when it changes (once a second).
  setReply(reply: Buffer): void {
    if (reply === this.#replySource) return;
    const bytes = reply.subarray(0, REPLY_ROOM);
    this.#memory.bytes.set(bytes, this.#reply);
    this.#view.setBigUint64(this.#iov + IOVEC.length, BigInt(bytes.length), LE);
    this.#replySource = reply;
  }

  free(): void {
    this.#memory.free();
  }
}
