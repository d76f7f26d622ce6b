import { AF_INET, AF_INET6, type NativeMemory, type SocketCalls } from '../../kernel/socket-calls.ts';

const STORAGE = 128; // sizeof(struct sockaddr_storage)
const TEXT = 64; // at least INET6_ADDRSTRLEN (46)

// The address argument of accept4(): the peer comes with the connection, so the per-connection log
// line needs no getpeername(). Reused for every connection; only used when that line is on.
export class PeerAddress {
  readonly address: number;
  readonly lengthAddress: number;
  readonly #calls: SocketCalls;
  readonly #memory: NativeMemory;
  readonly #view: DataView;

  constructor(calls: SocketCalls) {
    this.#calls = calls;
    this.#memory = calls.alloc(STORAGE + 4 + TEXT);
    this.address = this.#memory.address;
    this.lengthAddress = this.address + STORAGE;
    this.#view = this.#memory.view;
  }

  // The sockaddr accept4() just wrote, for matching without a string (--proxy-from).
  get view(): DataView {
    return this.#view;
  }

  // accept4() reads the room there is and writes the length it used.
  prepare(): void {
    this.#view.setUint32(STORAGE, STORAGE, true);
  }

  // The address accept4() just wrote: [address, port]; IPv4-mapped IPv6 addresses stay as they are.
  read(): [string, number] {
    const view = this.#view;
    const family = view.getUint16(0, true);
    const port = view.getUint16(2, false);
    if (family === AF_INET) {
      return [`${view.getUint8(4)}.${view.getUint8(5)}.${view.getUint8(6)}.${view.getUint8(7)}`, port];
    }
    if (family !== AF_INET6) return ['', 0];
    const text = STORAGE + 4;
    if (this.#calls.inetNtop(AF_INET6, this.address + 8, this.address + text, TEXT) === 0) return ['', port];
    const bytes = this.#memory.bytes;
    const end = bytes.indexOf(0, text);
    return [Buffer.from(bytes.subarray(text, end < 0 ? text + TEXT : end)).toString('latin1'), port];
  }

  free(): void {
    this.#memory.free();
  }
}
