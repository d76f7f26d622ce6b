import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  loadSocketCalls,
  type NativeMemory,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  type SocketCalls,
} from '../../src/kernel/socket-calls.ts';
import { parseTrustList, trustsSockaddr } from '../../src/net/cidr.ts';
import {
  AF_INET,
  AF_INET6,
  HOST_LE,
  IN6_ADDR,
  isMappedIPv4,
  readSockaddr,
  sockaddrFamily,
  writeSockaddr,
} from '../../src/net/ip.ts';
import { addressKey, sockaddrKey } from '../../src/udp/source-key.ts';

// The kernel as the judge of the layout: an address written here is one bind() takes, and what
// getsockname() and accept4() write is read back as the address Node's client used.

const calls = process.platform === 'linux' ? await loadSocketCalls().catch(() => undefined) : undefined;
const skip = !calls && 'needs Linux and libc through koffi';
const STORAGE = 128;

// A listener bound, through the sockaddr writer, to `address` port 0; its port as getsockname reads.
function listen(calls: SocketCalls, memory: NativeMemory, address: string) {
  const six = address.includes(':');
  const fd = calls.socket(six ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert.ok(fd >= 0);
  assert.equal(calls.bind(fd, memory.address, writeSockaddr(memory.view, 0, address, 0)), 0, address);
  assert.equal(calls.listen(fd, 8), 0);
  memory.bytes.fill(0);
  memory.view.setUint32(STORAGE, STORAGE, HOST_LE);
  assert.equal(calls.getsockname(fd, memory.address, memory.address + STORAGE), 0);
  const bound = readSockaddr(memory.view, 0);
  assert.ok(bound && bound.port > 0);
  return { fd, bound };
}

// One client from Node, accepted with its address; the client's own view of its address and port.
async function acceptOne(calls: SocketCalls, memory: NativeMemory, fd: number, host: string, port: number) {
  const client = net.connect({ host, port });
  await once(client, 'connect');
  memory.bytes.fill(0);
  memory.view.setUint32(STORAGE, STORAGE, HOST_LE);
  let accepted = -1;
  for (let i = 0; i < 200 && accepted < 0; i++) {
    accepted = calls.accept4(fd, memory.address, memory.address + STORAGE, SOCK_CLOEXEC);
    if (accepted < 0) await sleep(10);
  }
  assert.ok(accepted >= 0, 'accepted');
  calls.close(accepted);
  const local = { address: client.localAddress, port: client.localPort };
  client.destroy();
  return local;
}

test('bind() takes the sockaddr written here; getsockname() and accept4() write what is read here', {
  skip,
}, async () => {
  if (!calls) return;
  const memory = calls.alloc(STORAGE + 4);
  try {
    for (const address of ['127.0.0.1', '::1']) {
      const { fd, bound } = listen(calls, memory, address);
      try {
        assert.equal(bound.address, address);
        const client = await acceptOne(calls, memory, fd, address, bound.port);
        assert.deepEqual(readSockaddr(memory.view, 0), client);
        assert.equal(sockaddrKey(memory.view, 0), addressKey(client.address ?? ''));
        const trusted = parseTrustList(address.includes(':') ? '::1' : '127.0.0.0/8');
        assert.equal(trustsSockaddr(trusted, memory.view), true);
        assert.equal(trustsSockaddr(parseTrustList('10.0.0.0/8,2001:db8::/32'), memory.view), false);
      } finally {
        calls.close(fd);
      }
    }
  } finally {
    memory.free();
  }
});

test('a dual-stack listener reports an IPv4 client as IPv4-mapped: keyed and trusted as IPv4', {
  skip,
}, async () => {
  if (!calls) return;
  const memory = calls.alloc(STORAGE + 4);
  const { fd, bound } = listen(calls, memory, '::');
  try {
    const client = await acceptOne(calls, memory, fd, '127.0.0.1', bound.port);
    assert.equal(sockaddrFamily(memory.view, 0), AF_INET6);
    assert.equal(isMappedIPv4(memory.view, IN6_ADDR), true);
    assert.deepEqual(readSockaddr(memory.view, 0), { address: '::ffff:127.0.0.1', port: client.port });
    assert.equal(sockaddrKey(memory.view, 0), addressKey('127.0.0.1'));
    assert.equal(trustsSockaddr(parseTrustList('127.0.0.1'), memory.view), true);
    assert.equal(trustsSockaddr(parseTrustList('::1'), memory.view), false);
  } finally {
    calls.close(fd);
    memory.free();
  }
});
