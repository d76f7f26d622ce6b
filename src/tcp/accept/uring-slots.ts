import type { NativeMemory, SocketCalls } from '../../kernel/socket-calls.ts';
import type { Ring } from '../../kernel/uring.ts';
import { prepClose, prepFixedFdInstall } from '../../kernel/uring-requests.ts';
import { PeerAddress } from './peer-address.ts';
import { TAG, tagged } from './uring-tags.ts';

// The slots of a ring's direct descriptor table through which the kernel serves connections on its own
// (uring-chain-path.ts, uring-proxy-path.ts): each slot holds one connection from its accept to its
// close, none of it in the process's descriptor table. A slot is armed (its chain queued), busy (its
// chain stopped half way: the path finishes the connection, then frees the slot) or idle. A slot may be
// armed again only once its close has completed: an accept into a slot in use replaces its socket
// silently.
//
// --max-connections: connections whose reply must wait leave their slot for the descriptor table (and
// count as open); slots armed plus those connections never exceed the limit, so a connection a chain
// serves never needs refusing.

const IDLE = 0;
const ARMED = 1;
const BUSY = 2;

// Slots armed at once: every armed accept waits on the listener, and the more wait, the more each
// arriving connection costs the kernel (../shared/research/io-uring.md: 8 slots 0.88x dturing, 16
// 0.91x, 64 1.03x, 256 1.09x). Enough for a server whose sends complete at once.
export const SLOTS = 8;

export class ChainSlots {
  readonly count: number;
  readonly #state: Uint8Array;
  readonly #limit: number;
  // Slots in each state, kept as they change: read per connection.
  #armed = 0;
  #idle: number;
  // Connections moved out of their slot and still open (their reply or header waits).
  waiting = 0;
  // Per slot, where its accept writes the peer's address (when the path reads it).
  readonly peers: PeerAddress[] | undefined;
  #closing = false;

  constructor(calls: SocketCalls, maxConnections: number | undefined, withPeers: boolean) {
    this.#limit = maxConnections ?? Number.POSITIVE_INFINITY;
    this.count = Math.max(1, Math.min(SLOTS, this.#limit));
    this.#state = new Uint8Array(this.count);
    this.#idle = this.count;
    this.peers = withPeers ? Array.from({ length: this.count }, () => new PeerAddress(calls)) : undefined;
  }

  // Whether `slot` may be armed now: not closing, idle, and within --max-connections.
  armable(slot: number): boolean {
    return !this.#closing && this.#state[slot] === IDLE && this.#armed + this.waiting < this.#limit;
  }

  get armed(): number {
    return this.#armed;
  }

  // Slots armed or busy: what close() waits for.
  get inUse(): number {
    return this.count - this.#idle;
  }

  // The next slot that may be armed now, or -1.
  nextIdle(): number {
    if (this.#idle === 0) return -1;
    for (let slot = 0; slot < this.count; slot++) if (this.armable(slot)) return slot;
    return -1;
  }

  is(slot: number, state: 'idle' | 'armed' | 'busy'): boolean {
    return this.#state[slot] === (state === 'idle' ? IDLE : state === 'armed' ? ARMED : BUSY);
  }

  set(slot: number, state: 'idle' | 'armed' | 'busy'): void {
    const before = this.#state[slot];
    const after = state === 'idle' ? IDLE : state === 'armed' ? ARMED : BUSY;
    this.#state[slot] = after;
    this.#armed += (after === ARMED ? 1 : 0) - (before === ARMED ? 1 : 0);
    this.#idle += (after === IDLE ? 1 : 0) - (before === IDLE ? 1 : 0);
  }

  // No slot is armed again from here.
  close(): void {
    this.#closing = true;
  }

  // Closes the socket in `slot` (its chain stopped before its own close); the completion (TAG.free) makes
  // the slot idle. False when the ring has no room (the caller tries again on its next round).
  free(ring: Ring, slot: number): boolean {
    this.set(slot, 'busy');
    return ring.reserve(1) && prepClose(ring, { slot, tag: tagged(TAG.free, slot) });
  }

  // Moves the socket in `slot` into the descriptor table (its completion, TAG.install, carries the
  // descriptor) and frees the slot. Queued together: nothing runs between the two.
  handOver(ring: Ring, slot: number): boolean {
    this.set(slot, 'busy');
    if (!ring.reserve(2)) return false;
    prepFixedFdInstall(ring, { slot, tag: tagged(TAG.install, slot) });
    prepClose(ring, { slot, tag: tagged(TAG.free, slot) });
    return true;
  }

  dispose(): void {
    for (const peer of this.peers ?? []) peer.free();
  }
}

// The reply the chains send, in native memory the kernel reads when each send is issued (with
// DEFER_TASKRUN, inside the path's own io_uring_enter): brought up to date before each round, in place,
// at the same length. A reply of another length (not a daytime or time reply of this millennium) gets
// memory of its own; the old stays until the path closes, since armed sends still point at it.
export class ChainReply {
  readonly #calls: SocketCalls;
  readonly #memory: NativeMemory[] = [];
  #source: Buffer | undefined;
  address = 0;
  length = 0;

  constructor(calls: SocketCalls) {
    this.#calls = calls;
  }

  update(reply: Buffer): void {
    if (reply === this.#source) return;
    this.#source = reply;
    if (reply.length !== this.length || this.#memory.length === 0) {
      const memory = this.#calls.alloc(Math.max(1, reply.length));
      this.#memory.push(memory);
      this.address = memory.address;
      this.length = reply.length;
    }
    (this.#memory.at(-1) as NativeMemory).bytes.set(reply);
  }

  // The reply as the last update left it, from byte `from` (for a send that stopped half way).
  rest(from: number): Buffer {
    return (this.#source ?? Buffer.alloc(0)).subarray(Math.max(0, from));
  }

  free(): void {
    for (const memory of this.#memory.splice(0)) memory.free();
  }
}
