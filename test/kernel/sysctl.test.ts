import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readSysctl } from '../../src/kernel/sysctl.ts';

test('a numeric sysctl by its dotted name; undefined for one that is absent or not a number', {
  skip: process.platform !== 'linux' && 'Linux only',
}, () => {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
  assert.equal(readSysctl('net.core.somaxconn'), somaxconn);
  // Namespaced and global settings alike, nested as deep as they come.
  const retries = Number(readFileSync('/proc/sys/net/ipv4/tcp_syn_retries', 'utf8'));
  assert.equal(readSysctl('net.ipv4.tcp_syn_retries'), retries);
  assert.equal(readSysctl('net.core.no_such_setting'), undefined);
  assert.equal(readFileSync('/proc/sys/kernel/ostype', 'utf8').trim(), 'Linux');
  assert.equal(readSysctl('kernel.ostype'), undefined);
});
