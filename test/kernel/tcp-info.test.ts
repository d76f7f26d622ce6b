import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenerQueue, loadTcpInfo } from '../../src/kernel/tcp-info.ts';
import { tryConnect } from '../../src/lab/clients.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';
import { missingPeer } from '../helpers/peers.ts';

const linux = process.platform === 'linux';
const hasSs = spawnSync('ss', ['-V'], { stdio: 'ignore' }).status === 0;

test('TCP_INFO on a listener: the accept queue and the backlog, as ss reports them', {
  skip: !linux && 'Linux only',
}, async (t) => {
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
    if (hasSs) {
      const ss = execFileSync('ss', ['-Hltn', `sport = :${listener.port}`], { encoding: 'utf8' });
      const cols = ss.trim().split(/\s+/);
      assert.deepEqual([cols[0], Number(cols[1]), Number(cols[2])], ['LISTEN', 4, 3], 'ss agrees');
    }
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
  // Everything else was checked; the comparison with ss was not.
  if (!hasSs) missingPeer(t, 'ss (iproute2) is not installed: the comparison with ss is left out');
});
