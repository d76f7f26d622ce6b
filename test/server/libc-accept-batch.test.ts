import assert from 'node:assert/strict';
import net from 'node:net';
import { constants } from 'node:os';
import { test } from 'node:test';
import { AF_INET, loadSocketCalls, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/kernel/socket-calls.ts';
import { SOCKADDR_IN, writeSockaddr } from '../../src/net/ip.ts';
import { ACCEPT_BATCH } from '../../src/tcp/accept/accept4.ts';
import { libcPath } from '../../src/tcp/accept/libc-path.ts';
import { isAcceptor } from '../../src/tcp/accept/types.ts';
import { plainHooks } from '../helpers/hooks.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';

const calls = await loadSocketCalls().catch(() => undefined);
const { EINPROGRESS } = constants.errno;

// 2,000 connections already in the queue when the loop looks: the path takes them a bounded batch per
// loop turn (libuv's readiness is level-triggered, so the rest comes on the next turns), so timers,
// signals and scrapes run in between. Taken in one go they held this loop for about 100 ms.
test('a full accept queue is taken at most ACCEPT_BATCH connections per loop turn', async (t) => {
  if (!calls) return missingPeer(t, 'koffi/libc do not load here');
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  let admitted = 0;
  const hooks = plainHooks(Buffer.from('x\r\n'), {
    admit: () => {
      admitted++;
      return true;
    },
  });
  const acceptor = libcPath(calls).take(server, hooks);
  assert.ok(isAcceptor(acceptor), 'the libc path takes the listener');
  // Raw connects through libc: the kernel completes each handshake at once on loopback, and nothing
  // here runs in the event loop, so all 2,000 wait in the queue before the loop looks.
  const address = calls.alloc(SOCKADDR_IN);
  writeSockaddr(address.view, 0, '127.0.0.1', port);
  const clients: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const fd = calls.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    const result = calls.connect(fd, address.address, SOCKADDR_IN);
    assert.ok(result === 0 || calls.errno() === EINPROGRESS);
    clients.push(fd);
  }
  // Counted at every loop turn (the check phase follows the poll phase that ran the path).
  let largest = 0;
  let last = 0;
  const turn = () => {
    largest = Math.max(largest, admitted - last);
    last = admitted;
    if (admitted < 2000) setImmediate(turn);
  };
  setImmediate(turn);
  await waitFor(
    () => admitted,
    (n) => n >= 2000,
  );
  try {
    assert.equal(admitted, 2000);
    assert.ok(largest <= ACCEPT_BATCH, `${largest} connections were taken in one loop turn`);
    assert.ok(largest > 1, 'a loaded queue is taken in batches, not one connection a turn');
  } finally {
    for (const fd of clients) calls.close(fd);
    address.free();
    await acceptor.close();
  }
});
