import { constants } from 'node:os';
import { setUpRing } from './uring-setup.ts';
import type { Mapping, UringSyscalls } from './uring-syscalls.ts';

// One io_uring instance, its rings mapped once and read and written from JavaScript as memory: queuing
// a request and reaping a completion are stores and loads, not calls into native code. Only
// io_uring_enter, once per batch, enters the kernel. Layouts from the kernel's uapi <linux/io_uring.h>.
// Requests are queued through the named builders of uring-requests.ts.
//
// With IORING_SETUP_DEFER_TASKRUN (Linux 6.1) the kernel posts completions only inside
// io_uring_enter(GETEVENTS) on the thread that set the ring up, so the completion ring has no other
// writer while JavaScript reads it. Without it (older kernels) completions may be posted from the
// kernel's own threads: the ring indexes are read and written with Atomics either way.

export const ENTER_GETEVENTS = 1 << 0;
const ENTER_EXT_ARG = 1 << 3;
export const FEAT_NODROP = 1 << 1;
export const FEAT_EXT_ARG = 1 << 8;
export const FEAT_CQE_SKIP = 1 << 11;
const REGISTER_EVENTFD = 4;
const UNREGISTER_EVENTFD = 5;
const REGISTER_PROBE = 8;
const REGISTER_FILES2 = 13;
const RSRC_REGISTER_SPARSE = 1 << 0;
const { EINTR } = constants.errno;
const SQE_WORDS = 16; // 64 bytes
const CQE_WORDS = 4; // 16 bytes
const TWO_32 = 2 ** 32;

// The kernel's ring indexes are u32 counters that wrap at 2^32 (after about 1.3 days of one worker at
// full load); JavaScript's numbers do not. Every index kept here is reduced to u32, and every count
// between two indexes is their difference modulo 2^32.
export const nextIndex = (index: number, by = 1) => (index + by) >>> 0;
export const indexDistance = (ahead: number, behind: number) => (ahead - behind) >>> 0;

export class Ring {
  readonly fd: number;
  readonly setupFlags: number;
  readonly features: number;
  readonly entries: number;
  readonly #sys: UringSyscalls;
  readonly #maps: Mapping[];
  readonly #sq: Uint32Array; // the SQ ring (head, tail, array) as 32-bit words
  readonly #sqHead: number;
  readonly #sqTailAt: number;
  readonly #sqMask: number;
  readonly #sqes: Uint32Array;
  readonly #sqesI32: Int32Array;
  readonly #cq: Uint32Array;
  readonly #cqI32: Int32Array;
  readonly #cqHeadAt: number;
  readonly #cqTailAt: number;
  readonly #cqOverflowAt: number;
  readonly #cqMask: number;
  readonly #cqes: number; // word index of the first completion entry
  readonly #scratch: { address: number; view: DataView; free(): void };
  #sqTail: number;
  #cqHead: number;
  // The timeout the scratch memory holds an io_uring_getevents_arg for (the register calls reuse it).
  #timeoutMs: number | undefined;
  #closed = false;

  // A ring of `entries` submission slots and `cqEntries` completion slots (at least twice as many, so a
  // connection's completions and an accept's fit), or the errno that refused it.
  static create(sys: UringSyscalls, entries: number, cqEntries = entries * 2): Ring | { errno: number } {
    const memory = setUpRing(sys, entries, cqEntries);
    return 'errno' in memory ? memory : new Ring(sys, memory);
  }

  private constructor(sys: UringSyscalls, memory: Exclude<ReturnType<typeof setUpRing>, { errno: number }>) {
    const p = memory.params;
    const u = (offset: number) => p.getUint32(offset, true) / 4;
    this.#sys = sys;
    this.fd = memory.fd;
    this.setupFlags = memory.flags;
    this.features = p.getUint32(20, true);
    this.entries = p.getUint32(0, true);
    this.#maps = memory.maps;
    this.#scratch = memory.scratch;
    this.#sq = new Uint32Array(memory.sqRing.buffer);
    this.#sqHead = u(40);
    this.#sqTailAt = u(44);
    this.#sqMask = this.#sq[u(48)] ?? 0;
    const array = u(64);
    // Ring slot i holds the entry at index i, always: fill the indirection array once.
    for (let i = 0; i < this.entries; i++) this.#sq[array + i] = i;
    this.#sqTail = Atomics.load(this.#sq, this.#sqTailAt);
    this.#sqes = new Uint32Array(memory.sqes.buffer);
    this.#sqesI32 = new Int32Array(memory.sqes.buffer);
    this.#cq = new Uint32Array(memory.cqRing.buffer);
    this.#cqI32 = new Int32Array(memory.cqRing.buffer);
    this.#cqHeadAt = u(80);
    this.#cqTailAt = u(84);
    this.#cqOverflowAt = u(96);
    this.#cqMask = this.#cq[u(88)] ?? 0;
    this.#cqes = u(100);
    this.#cqHead = Atomics.load(this.#cq, this.#cqHeadAt);
  }

  // Entries queued and not yet submitted.
  get queued(): number {
    return indexDistance(this.#sqTail, Atomics.load(this.#sq, this.#sqHead));
  }

  // Submission slots free now.
  room(): number {
    return this.entries - this.queued;
  }

  // Makes room for `count` entries (a linked chain must go to the kernel in one submission), submitting
  // what is queued if needed; false when there is still no room (the kernel took none: EBUSY, EAGAIN),
  // and then nothing may be queued: a builder would refuse it.
  reserve(count: number): boolean {
    if (this.room() >= count) return true;
    this.enter(0);
    return this.room() >= count;
  }

  // Writes one request into the next free slot: the builders of uring-requests.ts name the fields.
  // `addr` and `off` are 64-bit (addresses, lengths); `tag`/`tagHi` the 64-bit user_data the completion
  // carries back. False, and nothing written, when every slot holds a request not yet submitted.
  prep(
    opcode: number,
    sqeFlags: number,
    fd: number,
    addr: number,
    len: number,
    opFlags: number,
    tag: number,
    tagHi: number,
    off: number,
    ioprio: number,
    fileIndex: number,
  ): boolean {
    if (this.queued >= this.entries) return false;
    const w = (this.#sqTail & this.#sqMask) * SQE_WORDS;
    const s = this.#sqes;
    s[w] = opcode | (sqeFlags << 8) | (ioprio << 16);
    this.#sqesI32[w + 1] = fd;
    s[w + 2] = off >>> 0;
    s[w + 3] = Math.floor(off / TWO_32);
    s[w + 4] = addr >>> 0;
    s[w + 5] = Math.floor(addr / TWO_32);
    s[w + 6] = len;
    s[w + 7] = opFlags;
    s[w + 8] = tag;
    s[w + 9] = tagHi;
    s[w + 10] = 0;
    s[w + 11] = fileIndex;
    s[w + 12] = 0;
    s[w + 13] = 0;
    s[w + 14] = 0;
    s[w + 15] = 0;
    this.#sqTail = nextIndex(this.#sqTail);
    return true;
  }

  // Submits everything queued; with ENTER_GETEVENTS also posts the completions that are ready (and with
  // `minComplete`, waits for that many, up to `timeoutMs` when given). The number submitted, or -errno
  // (-EBADR: the kernel had to drop completions, see dropped()).
  enter(flags: number, minComplete = 0, timeoutMs?: number): number {
    Atomics.store(this.#sq, this.#sqTailAt, this.#sqTail);
    const toSubmit = this.queued;
    let arg = 0;
    let size = 0;
    if (timeoutMs !== undefined) {
      // struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; } at +0, and the
      // struct __kernel_timespec it points to at +32; written again only when the timeout changes.
      if (timeoutMs !== this.#timeoutMs) this.#writeTimeout(timeoutMs);
      arg = this.#scratch.address;
      size = 24;
      flags |= ENTER_EXT_ARG;
    }
    const result = this.#sys.enter(this.fd, toSubmit, minComplete, flags, arg, size);
    if (result >= 0) return result;
    const errno = this.#sys.errno();
    return errno === EINTR ? 0 : -errno;
  }

  #writeTimeout(timeoutMs: number): void {
    const v = this.#scratch.view;
    const at = this.#scratch.address + 32;
    for (let i = 0; i < 48; i += 4) v.setUint32(i, 0, true);
    v.setUint32(16, at >>> 0, true);
    v.setUint32(20, Math.floor(at / TWO_32), true);
    v.setUint32(32, Math.floor(timeoutMs / 1000), true);
    v.setUint32(40, Math.round((timeoutMs % 1000) * 1e6), true);
    this.#timeoutMs = timeoutMs;
  }

  // Completions posted and not yet reaped; entry i (0 = oldest) is read with the accessors below.
  ready(): number {
    return indexDistance(Atomics.load(this.#cq, this.#cqTailAt), this.#cqHead);
  }

  #at(i: number): number {
    return this.#cqes + ((this.#cqHead + i) & this.#cqMask) * CQE_WORDS;
  }

  dataLo(i: number): number {
    return this.#cq[this.#at(i)] ?? 0;
  }

  dataHi(i: number): number {
    return this.#cq[this.#at(i) + 1] ?? 0;
  }

  result(i: number): number {
    return this.#cqI32[this.#at(i) + 2] ?? 0;
  }

  // Hands `count` reaped entries back to the kernel.
  advance(count: number): void {
    this.#cqHead = nextIndex(this.#cqHead, count);
    Atomics.store(this.#cq, this.#cqHeadAt, this.#cqHead);
  }

  // Completions the kernel dropped since the ring was set up (the CQ ring's overflow counter): the ring
  // was full and the kernel could not allocate room for them elsewhere. Their requests are over, and
  // nothing will say so.
  dropped(): number {
    return Atomics.load(this.#cq, this.#cqOverflowAt);
  }

  // Which operations this kernel knows (IORING_REGISTER_PROBE), by opcode.
  supports(opcodes: number[]): boolean {
    const koffi = this.#sys.koffi;
    const size = 16 + 256 * 8;
    const pointer = koffi.alloc('uint8_t', size);
    const view = new DataView(koffi.view(pointer, size));
    for (let i = 0; i < size; i += 4) view.setUint32(i, 0, true);
    const ok = this.#sys.register(this.fd, REGISTER_PROBE, Number(koffi.address(pointer)), 256) >= 0;
    // struct io_uring_probe { u8 last_op; u8 ops_len; u16 resv; u32 resv2[3]; struct io_uring_probe_op
    // { u8 op; u8 resv; u16 flags; u32 resv2; } ops[]; }, flags & IO_URING_OP_SUPPORTED.
    const last = view.getUint8(0);
    const known = opcodes.every((op) => op <= last && (view.getUint16(16 + op * 8 + 2, true) & 1) === 1);
    koffi.free(pointer);
    return ok && known;
  }

  // The ring signals `eventfd` whenever it has work for this thread: with DEFER_TASKRUN, as soon as a
  // request has something to complete (epoll on the ring's own descriptor reports only completions
  // already posted, which with DEFER_TASKRUN happens inside io_uring_enter). 0, or -errno.
  registerEventfd(eventfd: number): number {
    this.#timeoutMs = undefined;
    this.#scratch.view.setInt32(0, eventfd, true);
    const result = this.#sys.register(this.fd, REGISTER_EVENTFD, this.#scratch.address, 1);
    return result < 0 ? -this.#sys.errno() : 0;
  }

  // Stops signalling the registered eventfd (the caller then closes it). 0, or -errno.
  unregisterEventfd(): number {
    return this.#sys.register(this.fd, UNREGISTER_EVENTFD, 0, 0) < 0 ? -this.#sys.errno() : 0;
  }

  // A table of `count` direct descriptors (IORING_OP_SOCKET and IORING_OP_ACCEPT can put sockets straight
  // into a slot, and later requests name the slot with IOSQE_FIXED_FILE): no descriptor table entry per
  // socket.
  registerSparseFiles(count: number): number {
    this.#timeoutMs = undefined;
    const v = this.#scratch.view;
    // struct io_uring_rsrc_register { u32 nr; u32 flags; u64 resv2; u64 data; u64 tags; }
    v.setUint32(0, count, true);
    v.setUint32(4, RSRC_REGISTER_SPARSE, true);
    v.setBigUint64(8, 0n, true);
    v.setBigUint64(16, 0n, true);
    v.setBigUint64(24, 0n, true);
    const result = this.#sys.register(this.fd, REGISTER_FILES2, this.#scratch.address, 32);
    return result < 0 ? -this.#sys.errno() : result;
  }

  // Unmaps the rings and closes the descriptor; the kernel cancels whatever is still in flight.
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#maps) m.unmap();
    this.#scratch.free();
    this.#sys.close(this.fd);
  }
}
