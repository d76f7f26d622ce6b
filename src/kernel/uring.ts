import type { Mapping, UringSyscalls } from './uring-syscalls.ts';

// One io_uring instance, its rings mapped once and read and written from JavaScript as memory: queuing
// a request and reaping a completion are stores and loads, not calls into native code. Only
// io_uring_enter, once per batch, enters the kernel. Layouts from the kernel's uapi <linux/io_uring.h>.
//
// With IORING_SETUP_DEFER_TASKRUN (Linux 6.1) the kernel posts completions only inside
// io_uring_enter(GETEVENTS) on the thread that set the ring up, so the completion ring has no other
// writer while JavaScript reads it. Without it (older kernels) completions may be posted from the
// kernel's own threads: the ring indexes are read and written with Atomics either way.

export const OP_ACCEPT = 13;
export const OP_ASYNC_CANCEL = 14;
export const OP_CONNECT = 16;
export const OP_CLOSE = 19;
export const OP_SEND = 26;
export const OP_READ = 22;
export const OP_RECV = 27;
export const OP_SOCKET = 45;

export const IOSQE_FIXED_FILE = 1 << 0;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
export const ACCEPT_MULTISHOT = 1 << 0;
export const CANCEL_ALL = 1 << 0;
export const CANCEL_FD = 1 << 1;
export const CANCEL_FD_FIXED = 1 << 3;
export const CQE_F_MORE = 1 << 1;
export const ENTER_GETEVENTS = 1 << 0;
const ENTER_EXT_ARG = 1 << 3;

export const SETUP_SINGLE_ISSUER = 1 << 12;
export const SETUP_DEFER_TASKRUN = 1 << 13;
const SETUP_TASKRUN_FLAG = 1 << 9;
const SETUP_CQSIZE = 1 << 3;
export const FEAT_NODROP = 1 << 1;
export const FEAT_EXT_ARG = 1 << 8;
export const FEAT_CQE_SKIP = 1 << 11;
const FEAT_SINGLE_MMAP = 1 << 0;
const REGISTER_EVENTFD = 4;
const REGISTER_PROBE = 8;
const REGISTER_FILES2 = 13;
const RSRC_REGISTER_SPARSE = 1 << 0;

// The setups tried in turn: the first the kernel accepts is used; a kernel that does not know a flag
// answers EINVAL. DEFER_TASKRUN (6.1) runs the ring's work only inside io_uring_enter on this thread.
// Without it, the kernel wakes the thread to run that work (COOP_TASKRUN is not tried: it leaves a
// thread asleep in epoll_wait unwoken, and the connections waiting).
// TASKRUN_FLAG: the kernel marks the SQ ring's flags while it holds work for this thread (taskWork()).
const SETUPS = [SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_TASKRUN_FLAG, 0];
const SQ_TASKRUN = 1 << 2;
const CQ_EVENTFD_DISABLED = 1 << 0;
const EINVAL = 22;
const EINTR = 4;
const PARAMS_SIZE = 120;
const SQE_WORDS = 16; // 64 bytes
const CQE_WORDS = 4; // 16 bytes
const TWO_32 = 2 ** 32;

// Native memory for the setup parameters, later for the arguments of enter and register.
interface Scratch {
  address: number;
  view: DataView;
  free(): void;
}

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
  readonly #sqFlagsAt: number;
  readonly #sqMask: number;
  readonly #sqes: Uint32Array;
  readonly #sqesI32: Int32Array;
  readonly #cq: Uint32Array;
  readonly #cqI32: Int32Array;
  readonly #cqHeadAt: number;
  readonly #cqTailAt: number;
  readonly #cqFlagsAt: number;
  readonly #cqMask: number;
  readonly #cqes: number; // word index of the first completion entry
  readonly #scratch: Scratch;
  #sqTail: number;
  #cqHead: number;
  // The timeout the scratch memory holds an io_uring_getevents_arg for (the register calls reuse it).
  #timeoutMs: number | undefined;
  #closed = false;

  // A ring of `entries` submission slots and `cqEntries` completion slots (at least twice as many, so a
  // connection's completions and an accept's fit), or the errno io_uring_setup answered.
  static create(sys: UringSyscalls, entries: number, cqEntries = entries * 2): Ring | { errno: number } {
    const koffi = sys.koffi;
    const pointer = koffi.alloc('uint8_t', PARAMS_SIZE + 64);
    const view = new DataView(koffi.view(pointer, PARAMS_SIZE + 64));
    const scratch = { address: Number(koffi.address(pointer)), view, free: () => koffi.free(pointer) };
    let errno = 0;
    for (const flags of SETUPS) {
      for (let i = 0; i < PARAMS_SIZE; i += 4) view.setUint32(i, 0, true);
      view.setUint32(4, cqEntries, true);
      view.setUint32(8, flags | SETUP_CQSIZE, true);
      const fd = sys.setup(entries, scratch.address);
      if (fd >= 0) {
        const ring = Ring.#map(sys, fd, flags, scratch);
        if (ring) return ring;
        errno = sys.errno();
        break;
      }
      errno = sys.errno();
      if (errno !== EINVAL) break;
    }
    scratch.free();
    return { errno };
  }

  static #map(sys: UringSyscalls, fd: number, flags: number, scratch: Scratch): Ring | undefined {
    const p = scratch.view;
    const u = (offset: number) => p.getUint32(offset, true);
    const sqEntries = u(0);
    const cqEntries = u(4);
    const features = u(20);
    const sqSize = u(40 + 24) + sqEntries * 4;
    const cqSize = u(80 + 20) + cqEntries * CQE_WORDS * 4;
    const single = (features & FEAT_SINGLE_MMAP) !== 0;
    const maps: Mapping[] = [];
    const sqRing = sys.map(fd, single ? Math.max(sqSize, cqSize) : sqSize, 0);
    if (sqRing) maps.push(sqRing);
    const cqRing = single ? sqRing : sys.map(fd, cqSize, 0x8000000);
    if (cqRing && !single) maps.push(cqRing);
    const sqes = sys.map(fd, sqEntries * SQE_WORDS * 4, 0x10000000);
    if (sqes) maps.push(sqes);
    if (!sqRing || !cqRing || !sqes) {
      for (const m of maps) m.unmap();
      return undefined;
    }
    return new Ring(sys, fd, flags, features, sqEntries, maps, [sqRing, cqRing, sqes], p, scratch);
  }

  private constructor(
    sys: UringSyscalls,
    fd: number,
    flags: number,
    features: number,
    entries: number,
    maps: Mapping[],
    [sqRing, cqRing, sqes]: Mapping[],
    p: DataView,
    scratch: Scratch,
  ) {
    const u = (offset: number) => p.getUint32(offset, true) / 4;
    this.#sys = sys;
    this.fd = fd;
    this.setupFlags = flags;
    this.features = features;
    this.entries = entries;
    this.#maps = maps;
    this.#scratch = scratch;
    this.#sq = new Uint32Array((sqRing as Mapping).buffer);
    this.#sqHead = u(40);
    this.#sqTailAt = u(44);
    this.#sqFlagsAt = u(56);
    this.#sqMask = this.#sq[u(48)] ?? 0;
    const array = u(64);
    // Ring slot i holds the entry at index i, always: fill the indirection array once.
    for (let i = 0; i < entries; i++) this.#sq[array + i] = i;
    this.#sqTail = Atomics.load(this.#sq, this.#sqTailAt);
    this.#sqes = new Uint32Array((sqes as Mapping).buffer);
    this.#sqesI32 = new Int32Array((sqes as Mapping).buffer);
    this.#cq = new Uint32Array((cqRing as Mapping).buffer);
    this.#cqI32 = new Int32Array((cqRing as Mapping).buffer);
    this.#cqHeadAt = u(80);
    this.#cqTailAt = u(84);
    this.#cqFlagsAt = u(104);
    this.#cqMask = this.#cq[u(88)] ?? 0;
    this.#cqes = u(100);
    this.#cqHead = Atomics.load(this.#cq, this.#cqHeadAt);
  }

  // Submission slots free now.
  room(): number {
    return this.entries - (this.#sqTail - Atomics.load(this.#sq, this.#sqHead));
  }

  // Entries queued and not yet submitted.
  get queued(): number {
    return this.#sqTail - Atomics.load(this.#sq, this.#sqHead);
  }

  // Makes room for `count` entries (a linked chain must go to the kernel in one submission), submitting
  // what is queued if needed; false when the kernel took none of it (the caller retries later).
  reserve(count: number): boolean {
    if (this.room() >= count) return true;
    this.enter(0);
    return this.room() >= count;
  }

  // Queues one request. `addr` and `off` are 64-bit (addresses, lengths); `data` is the 64-bit user_data
  // as two 32-bit halves, which the completion carries back.
  push(
    opcode: number,
    flags: number,
    fd: number,
    addr: number,
    len: number,
    opFlags: number,
    dataLo: number,
    dataHi: number,
    off = 0,
    ioprio = 0,
    fileIndex = 0,
  ): void {
    const w = (this.#sqTail & this.#sqMask) * SQE_WORDS;
    const s = this.#sqes;
    s[w] = opcode | (flags << 8) | (ioprio << 16);
    this.#sqesI32[w + 1] = fd;
    s[w + 2] = off >>> 0;
    s[w + 3] = Math.floor(off / TWO_32);
    s[w + 4] = addr >>> 0;
    s[w + 5] = Math.floor(addr / TWO_32);
    s[w + 6] = len;
    s[w + 7] = opFlags;
    s[w + 8] = dataLo;
    s[w + 9] = dataHi;
    s[w + 10] = 0;
    s[w + 11] = fileIndex;
    s[w + 12] = 0;
    s[w + 13] = 0;
    s[w + 14] = 0;
    s[w + 15] = 0;
    this.#sqTail++;
  }

  // Submits everything queued; with ENTER_GETEVENTS also posts the completions that are ready (and with
  // `minComplete`, waits for that many, up to `timeoutMs` when given). The number submitted, or -errno.
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
    return (Atomics.load(this.#cq, this.#cqTailAt) - this.#cqHead) >>> 0;
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

  cqeFlags(i: number): number {
    return this.#cq[this.#at(i) + 3] ?? 0;
  }

  // Hands `count` reaped entries back to the kernel.
  advance(count: number): void {
    this.#cqHead = (this.#cqHead + count) >>> 0;
    Atomics.store(this.#cq, this.#cqHeadAt, this.#cqHead);
  }

  // DEFER_TASKRUN (with TASKRUN_FLAG): completions are posted only inside io_uring_enter on this thread.
  get deferred(): boolean {
    return (this.setupFlags & SETUP_DEFER_TASKRUN) !== 0;
  }

  // Whether the kernel holds work for this thread that no io_uring_enter has run yet (DEFER_TASKRUN with
  // TASKRUN_FLAG; otherwise false).
  taskWork(): boolean {
    return (Atomics.load(this.#sq, this.#sqFlagsAt) & SQ_TASKRUN) !== 0;
  }

  // Turns the registered eventfd's signals off (while this thread is in the ring anyway) or on again.
  set eventfdSignals(on: boolean) {
    const flags = Atomics.load(this.#cq, this.#cqFlagsAt);
    Atomics.store(this.#cq, this.#cqFlagsAt, on ? flags & ~CQ_EVENTFD_DISABLED : flags | CQ_EVENTFD_DISABLED);
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

  // A table of `count` direct descriptors (IORING_OP_SOCKET can create sockets straight into a slot,
  // and later requests name the slot with IOSQE_FIXED_FILE): no descriptor table entry per socket.
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
  close(close: (fd: number) => void): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#maps) m.unmap();
    this.#scratch.free();
    close(this.fd);
  }
}
