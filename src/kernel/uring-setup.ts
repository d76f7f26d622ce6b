import { constants } from 'node:os';
import type { Mapping, UringSyscalls } from './uring-syscalls.ts';

// Setting an io_uring instance up: io_uring_setup, then the three mappings of its memory. Layouts from
// the kernel's uapi <linux/io_uring.h>; liburing's setup.c does the same.

const SETUP_SINGLE_ISSUER = 1 << 12;
const SETUP_DEFER_TASKRUN = 1 << 13;
const SETUP_CQSIZE = 1 << 3;
const FEAT_SINGLE_MMAP = 1 << 0;
const { EINVAL } = constants.errno;
export const PARAMS_SIZE = 120;
const SQE_BYTES = 64;
const CQE_BYTES = 16;
const CQ_RING_OFFSET = 0x8000000;
const SQES_OFFSET = 0x10000000;

// The setups tried in turn: the first the kernel accepts is used; a kernel that does not know a flag
// answers EINVAL. DEFER_TASKRUN (6.1) runs the ring's work only inside io_uring_enter on this thread.
// Without it, the kernel wakes the thread to run that work (COOP_TASKRUN is not tried: it leaves a
// thread asleep in epoll_wait unwoken, and the connections waiting).
// (No TASKRUN_FLAG: nothing reads the SQ flag it sets; a round ends when nothing came.)
const SETUPS = [SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN, 0];

// Native memory for the setup parameters, later for the arguments of enter and register.
export interface Scratch {
  address: number;
  view: DataView;
  free(): void;
}

// A ring the kernel set up and whose memory is mapped: what the Ring is built from.
export interface RingMemory {
  fd: number;
  flags: number;
  // The io_uring_params the kernel filled in (sq_off at 40, cq_off at 80), in `scratch`.
  params: DataView;
  scratch: Scratch;
  sqRing: Mapping;
  cqRing: Mapping;
  sqes: Mapping;
  // Every mapping to undo (the CQ ring is the SQ ring's mapping where the kernel maps both at once).
  maps: Mapping[];
}

// A ring of `entries` submission slots and `cqEntries` completion slots, or the errno that refused it.
// Nothing is left behind on failure: the descriptor is closed and whatever was mapped is unmapped.
export function setUpRing(
  sys: UringSyscalls,
  entries: number,
  cqEntries: number,
): RingMemory | { errno: number } {
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
    if (fd < 0) {
      errno = sys.errno();
      if (errno !== EINVAL) break;
      continue;
    }
    const mapped = mapRing(sys, fd, view);
    if (!('errno' in mapped)) return { fd, flags, params: view, scratch, ...mapped };
    errno = mapped.errno;
    sys.close(fd);
    break;
  }
  scratch.free();
  return { errno };
}

// The SQ ring, the CQ ring and the submission entries, or the errno of the mapping that failed (read
// before anything is unmapped, which may set errno again).
function mapRing(
  sys: UringSyscalls,
  fd: number,
  params: DataView,
): Pick<RingMemory, 'sqRing' | 'cqRing' | 'sqes' | 'maps'> | { errno: number } {
  const u = (offset: number) => params.getUint32(offset, true);
  const sqEntries = u(0);
  const cqEntries = u(4);
  const sqSize = u(40 + 24) + sqEntries * 4;
  const cqSize = u(80 + 20) + cqEntries * CQE_BYTES;
  const single = (u(20) & FEAT_SINGLE_MMAP) !== 0;
  const maps: Mapping[] = [];
  const map = (length: number, offset: number) => {
    const mapping = sys.map(fd, length, offset);
    if (mapping) maps.push(mapping);
    return mapping;
  };
  const sqRing = map(single ? Math.max(sqSize, cqSize) : sqSize, 0);
  const cqRing = sqRing && (single ? sqRing : map(cqSize, CQ_RING_OFFSET));
  const sqes = cqRing && map(sqEntries * SQE_BYTES, SQES_OFFSET);
  if (sqRing && cqRing && sqes) return { sqRing, cqRing, sqes, maps };
  const errno = sys.errno();
  for (const m of maps) m.unmap();
  return { errno };
}
