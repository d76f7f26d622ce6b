import { getSystemErrorName } from 'node:util';
import {
  EAGAIN,
  EINPROGRESS,
  EINTR,
  type NativeMemory,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SocketCalls,
} from '../../kernel/socket-calls.ts';
import { SOCKADDR_IN6, sockaddrFamily, writeSockaddr } from '../../net/ip.ts';
import {
  type Counts,
  classify,
  type LoopConfig,
  type LoopResult,
  type Outcome,
  replyOutcome,
  Tally,
} from '../tally.ts';
import { runBlockingSlices, WAIT_MS } from './blocking-slices.ts';

// Per connection only what the C load generator (dtload) does: socket, a non-blocking connect, one
// epoll_ctl (edge-triggered, so never another), reads to EOF, close; one epoll_wait serves a batch.
// Everything goes through libc (koffi) on this thread's own epoll instance, which blocks this thread
// only (a worker thread per --workers). No libuv handle, request or JavaScript object per connection:
// a connection is a slot in typed arrays.

const EPOLLIN = 0x1;
const EPOLLRDHUP = 0x2000;
const EPOLLET = 0x80000000;
const EPOLL_CTL_ADD = 1;
// struct epoll_event is packed on x86-64 (12 bytes, data at 4) and naturally aligned elsewhere.
const EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
const DATA_OFFSET = process.arch === 'x64' ? 4 : 8;
const READ_SIZE = 1024;

export async function runLibcLoop(
  calls: SocketCalls,
  config: LoopConfig,
  signal: AbortSignal,
  counts: Counts,
): Promise<LoopResult> {
  const tally = new Tally(config, counts);
  const slots = config.connections;
  const target = encodeAddress(calls, config.address, config.port);
  const events = calls.alloc(EVENT_SIZE * slots);
  const control = calls.alloc(16);
  const buffer = calls.alloc(READ_SIZE);
  const ep = calls.epollCreate();
  const fds = new Int32Array(slots).fill(-1);
  const starts = new Float64Array(slots);
  const tail = { bytes: 0, last: 0, secondLast: 0 };
  const tails = {
    bytes: new Int32Array(slots),
    last: new Uint8Array(slots),
    secondLast: new Uint8Array(slots),
  };
  let active = 0;

  const launch = (slot: number) => {
    if (!tally.more(signal)) return;
    tally.started++;
    const start = performance.now();
    starts[slot] = start;
    tails.bytes[slot] = 0;
    tails.last[slot] = 0;
    tails.secondLast[slot] = 0;
    const fd = calls.socket(target.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      tally.record(start, classify(getSystemErrorName(-calls.errno())));
      return;
    }
    if (calls.connect(fd, target.memory.address, target.length) < 0) {
      const errno = calls.errno();
      if (errno !== EINPROGRESS) {
        calls.close(fd);
        tally.record(start, classify(getSystemErrorName(-errno)));
        return;
      }
    }
    control.view.setUint32(0, EPOLLIN | EPOLLRDHUP | EPOLLET, true);
    control.view.setUint32(DATA_OFFSET, slot, true);
    control.view.setUint32(DATA_OFFSET + 4, 0, true);
    if (calls.epollCtl(ep, EPOLL_CTL_ADD, fd, control.address) < 0) {
      calls.close(fd);
      tally.record(start, 'other');
      return;
    }
    fds[slot] = fd;
    active++;
  };
  const finish = (slot: number, outcome: Outcome) => {
    calls.close(fds[slot] ?? -1);
    fds[slot] = -1;
    active--;
    tally.record(starts[slot] ?? 0, outcome);
    launch(slot);
  };
  const onEvent = (slot: number) => {
    const fd = fds[slot] ?? -1;
    if (fd < 0) return;
    const bytes = buffer.bytes;
    for (;;) {
      const size = calls.read(fd, buffer.address, READ_SIZE);
      if (size > 0) {
        tails.bytes[slot] = (tails.bytes[slot] ?? 0) + size;
        tails.secondLast[slot] = size > 1 ? (bytes[size - 2] ?? 0) : (tails.last[slot] ?? 0);
        tails.last[slot] = bytes[size - 1] ?? 0;
        continue;
      }
      if (size === 0) {
        tail.bytes = tails.bytes[slot] ?? 0;
        tail.last = tails.last[slot] ?? 0;
        tail.secondLast = tails.secondLast[slot] ?? 0;
        finish(slot, replyOutcome(config.service, tail));
        return;
      }
      const errno = calls.errno();
      if (errno === EAGAIN) return; // still connecting, or waiting for the reply: the next edge
      if (errno === EINTR) continue;
      finish(slot, classify(getSystemErrorName(-errno)));
      return;
    }
  };
  // Timeouts, and slots left idle by a failed socket() or connect(), looked at every few ms.
  const scanEvery = Math.min(10, Math.max(1, config.timeoutMs / 20));
  const scan = (now: number) => {
    for (let slot = 0; slot < slots; slot++) {
      if ((fds[slot] ?? -1) >= 0) {
        if (now - (starts[slot] ?? now) > config.timeoutMs) finish(slot, 'timeout');
      } else {
        launch(slot);
      }
    }
  };

  try {
    if (ep < 0) throw new Error(`epoll_create1: ${getSystemErrorName(-calls.errno())}`);
    for (let slot = 0; slot < slots; slot++) launch(slot);
    await runBlockingSlices(
      // The signal ends the loop at once: what is in flight is closed below, not waited for.
      () => !signal.aborted && (active > 0 || tally.more(signal)),
      () => {
        const ready = calls.epollWait(ep, events.address, slots, WAIT_MS);
        for (let i = 0; i < ready; i++) onEvent(events.view.getUint32(i * EVENT_SIZE + DATA_OFFSET, true));
      },
      scan,
      scanEvery,
    );
  } finally {
    for (const fd of fds) if (fd >= 0) calls.close(fd);
    if (ep >= 0) calls.close(ep);
    for (const memory of [events, control, buffer, target.memory]) memory.free();
  }
  return tally.result('libc');
}

// A sockaddr_in or sockaddr_in6 in native memory, from a numeric address (the resolved target).
export function encodeAddress(calls: SocketCalls, address: string, port: number) {
  const memory: NativeMemory = calls.alloc(SOCKADDR_IN6);
  const length = writeSockaddr(memory.view, 0, address, port);
  if (length === 0) {
    memory.free();
    throw new Error(`not a numeric address: ${address}`);
  }
  return { family: sockaddrFamily(memory.view, 0), length, memory };
}
