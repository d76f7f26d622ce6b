import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { MSG_WAITALL } from '../../kernel/msg-flags.ts';
import { SOCK_STREAM } from '../../kernel/socket-calls.ts';
import { ENTER_GETEVENTS, Ring } from '../../kernel/uring.ts';
import {
  CANCEL_ALL,
  CANCEL_FD,
  CANCEL_FD_FIXED,
  IOSQE_CQE_SKIP_SUCCESS,
  IOSQE_FIXED_FILE,
  IOSQE_IO_LINK,
  prepCancel,
  prepConnect,
  prepRecv,
  prepSocket,
} from '../../kernel/uring-requests.ts';
import type { UringSupport } from '../../kernel/uring-support.ts';
import { type Counts, classify, type LoopConfig, type LoopResult, replyOutcome, Tally } from '../tally.ts';
import { runBlockingSlices, WAIT_MS } from './blocking-slices.ts';
import { encodeAddress } from './libc-loop.ts';

// Per connection, nothing but memory writes and one completion: each slot's connection is a chain of
// three linked requests on the ring, a socket created straight into the slot's direct descriptor (no
// entry in the process's descriptor table), a connect and a receive that waits for EOF (MSG_WAITALL),
// and the next connection's socket replaces the slot's, closing it. The socket and the connect post no
// completion when they succeed, and a failure's completion stands for its cancelled links (which post
// none), so every connection ends in exactly one completion. One io_uring_enter submits a batch and waits
// for the next; the thread (a worker's) blocks there only.

type Ready = Extract<UringSupport, { ok: true }>;

const KIND_CHAIN = 1;
const KIND_CANCEL = 2;
// The reply check needs at most 512 bytes and EOF: one more byte means the reply is too long.
const ROOM = 513;
const { ECANCELED } = constants.errno;

export async function runUringLoop(
  { sys, calls }: Ready,
  config: LoopConfig,
  signal: AbortSignal,
  counts: Counts,
): Promise<LoopResult> {
  const tally = new Tally(config, counts);
  const slots = config.connections;
  const entries = 2 ** Math.ceil(Math.log2(Math.max(64, slots * 4)));
  const ring = Ring.create(sys, entries);
  if (!(ring instanceof Ring)) throw new Error(`io_uring_setup: ${getSystemErrorName(-ring.errno)}`);
  const target = encodeAddress(calls, config.address, config.port);
  const buffers = calls.alloc(ROOM * slots);
  const starts = new Float64Array(slots);
  const busy = new Uint8Array(slots);
  const timedOut = new Uint8Array(slots);
  const tail = { bytes: 0, last: 0, secondLast: 0 };
  let active = 0;

  const launch = (slot: number) => {
    if (!tally.more(signal)) return;
    // Three entries in one submission: reserve() submits what was queued to make room; where the kernel
    // takes none of it (EBUSY), the slot stays idle and the next scan launches it.
    if (!ring.reserve(3)) return;
    tally.started++;
    starts[slot] = performance.now();
    busy[slot] = 1;
    timedOut[slot] = 0;
    active++;
    const tag = KIND_CHAIN | (slot << 8);
    const link = IOSQE_FIXED_FILE | IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    // The socket into direct descriptor `slot`, replacing (and closing) the last one.
    prepSocket(ring, {
      domain: target.family,
      type: SOCK_STREAM,
      slot,
      tag,
      link: IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS,
    });
    prepConnect(ring, { fd: slot, address: target.memory.address, length: target.length, tag, link });
    const buffer = buffers.address + slot * ROOM;
    prepRecv(ring, { fd: slot, buffer, length: ROOM, flags: MSG_WAITALL, tag, link: IOSQE_FIXED_FILE });
  };
  const finished = (slot: number, result: number) => {
    busy[slot] = 0;
    active--;
    let outcome: Parameters<Tally['record']>[1];
    if (timedOut[slot] && (result < 0 || result === 0)) outcome = 'timeout';
    else if (result < 0) outcome = result === -ECANCELED ? 'other' : classify(getSystemErrorName(result));
    else {
      const at = slot * ROOM;
      tail.bytes = result;
      tail.last = result > 0 ? (buffers.bytes[at + result - 1] ?? 0) : 0;
      tail.secondLast = result > 1 ? (buffers.bytes[at + result - 2] ?? 0) : 0;
      outcome = result < ROOM ? replyOutcome(config.service, tail) : 'shortRead';
    }
    tally.record(starts[slot] ?? 0, outcome);
    launch(slot);
  };
  // Connections past their timeout: cancel what the slot has in flight; its completion then ends it.
  const scanEvery = Math.min(10, Math.max(1, config.timeoutMs / 20));
  const scan = (now: number) => {
    for (let slot = 0; slot < slots; slot++) {
      if (busy[slot] && !timedOut[slot] && now - (starts[slot] ?? now) > config.timeoutMs) {
        timedOut[slot] = 1;
        ring.reserve(1);
        const flags = CANCEL_FD | CANCEL_FD_FIXED | CANCEL_ALL;
        prepCancel(ring, { fd: slot, flags, tag: KIND_CANCEL, link: IOSQE_CQE_SKIP_SUCCESS });
      } else if (!busy[slot]) launch(slot);
    }
  };

  try {
    const registered = ring.registerSparseFiles(slots);
    if (registered < 0) throw new Error(`registering direct descriptors: ${getSystemErrorName(registered)}`);
    for (let slot = 0; slot < slots; slot++) launch(slot);
    await runBlockingSlices(
      // The signal ends the loop at once: what is in flight is closed below, not waited for.
      () => !signal.aborted && (active > 0 || tally.more(signal)),
      () => {
        ring.enter(ENTER_GETEVENTS, 1, WAIT_MS);
        const ready = ring.ready();
        for (let i = 0; i < ready; i++) {
          const data = ring.dataLo(i);
          if ((data & 0xff) === KIND_CHAIN) finished(data >>> 8, ring.result(i));
        }
        ring.advance(ready);
      },
      scan,
      scanEvery,
    );
  } finally {
    // Closing the ring closes every direct descriptor and cancels whatever is left.
    ring.close();
    buffers.free();
    target.memory.free();
  }
  return tally.result('uring');
}
