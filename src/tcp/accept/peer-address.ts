import type { NativeMemory, SocketCalls } from '../../kernel/socket-calls.ts';
import { HOST_LE, readSockaddr } from '../../net/ip.ts';

const STORAGE = 128; // sizeof(struct sockaddr_storage)

// The address argument of accept4(): the peer comes with the connection, so the per-connection log
// line needs no getpeername(). Reused for every connection; only used when that line is on.
export class PeerAddress {
  readonly address: number;
  readonly lengthAddress: number;
  readonly #memory: NativeMemory;
  readonly #view: DataView;

  constructor(calls: SocketCalls) {
    this.#memory = calls.alloc(STORAGE + 4);
    this.address = this.#memory.address;
    this.lengthAddress = this.address + STORAGE;
    this.#view = this.#memory.view;
  }

  // The sockaddr accept4() just wrote, for matching without a string (--proxy-from).
  get view(): DataView {
    return this.#view;
  }

  // accept4() reads the room there is and writes the length it used (a socklen_t, in host order).
  prepare(): void {
    this.#view.setUint32(STORAGE, STORAGE, HOST_LE);
  }

  // The address accept4() just wrote: [address, port]; IPv4-mapped IPv6 addresses stay as they are.
  read(): [string, number] {
    const peer = readSockaddr(this.#view, 0);
    return peer ? [peer.address, peer.port] : ['', 0];
  }

  free(): void {
    this.#memory.free();
  }
}
