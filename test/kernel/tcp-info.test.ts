import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenerQueue, loadTcpInfo } from '../../src/kernel/tcp-info.ts';
import { tryConnect } from '../../src/lab/clients.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';

const linux = process.platform === 'linux';

test('TCP_INFO on a listener: the accept queue and the backlog, as ss reports them', {
  skip: !linux && 'Linux only',
}, async () => {
  const read = await loadTcpInfo();
  assert.ok(read, 'TCP_INFO through koffi loads on Linux');
  const listener = await RawSocket.inet(SOCK_STREAM);
  const clients = [];
  try {
    await listener.listen(3);
    assert.deepEqual(listenerQueue(read, listener.fd), { queued: 0, backlog: 3 });
    // backlog 3 holds 4 completed connections; a fifth waits in SYN retransmissions.
    for (let i = 0; i < 5; i++) clients.push(await tryConnect({ port: listener.port }, 300));
    let queue = listenerQueue(read, listener.fd);
    for (let i = 0; i < 50 && queue?.queued !== 4; i++) {
      await sleep(20);
      queue = listenerQueue(read, listener.fd);
    }
    assert.deepEqual(queue, { queued: 4, backlog: 3 });
    let ss = '';
    try {
      ss = execFileSync('ss', ['-Hltn', `sport = :${listener.port}`], { encoding: 'utf8' });
    } catch {}
    const cols = ss.trim().split(/\s+/);
    if (cols[0] === 'LISTEN') assert.deepEqual([Number(cols[1]), Number(cols[2])], [4, 3], 'ss agrees');
    // A client whose SYN was dropped is still connecting, by its own socket's account.
    const waiting = clients.find((c) => c.outcome === 'pending');
    assert.ok(waiting, 'the fifth client is still connecting');
    const fd = (waiting.socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    assert.equal(read(fd)?.state, 'SYN_SENT');
    assert.equal(listener.acceptAll(), 4);
    assert.equal(listenerQueue(read, listener.fd)?.queued, 0);
    // Not a listener: undefined.
    assert.equal(listenerQueue(read, fd), undefined);
  } finally {
    for (const c of clients) c.socket.destroy();
    listener.close();
  }
});
