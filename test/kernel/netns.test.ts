import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { makeNetns, netnsUnavailable } from '../../src/kernel/netns.ts';
import { missingPeer } from '../helpers/peers.ts';

const listed = () =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '');

// A run killed with SIGKILL (a timeout, an OOM kill) cannot remove the namespace it made: the next
// makeNetns removes it, since its name says whose it was. One whose maker still runs stays.
test('makeNetns removes the namespaces of makers that are gone, and keeps the others', (t) => {
  const why = netnsUnavailable('ip netns');
  if (why) return missingPeer(t, why);
  // A PID that ran a moment ago and runs no more.
  const gone = spawnSync('true').pid;
  assert.ok(gone && gone > 0);
  const stale = `dtstale-${gone}`;
  const kept = `dtkept-${process.pid}`;
  for (const name of [stale, kept]) spawnSync('ip', ['netns', 'add', name]);
  const ns = makeNetns('fresh');
  try {
    const now = listed();
    assert.ok(!now.includes(stale), `${stale} removed`);
    assert.ok(now.includes(kept), `${kept} kept: its maker runs`);
    assert.ok(now.includes(ns.name), 'the new one made');
    assert.equal(ns.name, `dtfresh-${process.pid}`);
  } finally {
    ns.remove();
    for (const name of [stale, kept]) spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
  assert.ok(!listed().some((name) => [stale, kept, ns.name].includes(name)), 'nothing left behind');
});
