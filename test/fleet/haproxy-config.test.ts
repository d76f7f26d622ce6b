import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';

const hasHaproxy = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;

test('deploy/haproxy/daytime.cfg passes haproxy -c', (t) => {
  if (!hasHaproxy) return missingPeer(t, 'haproxy is not installed (apt-get install haproxy)');
  const run = mkdtempSync(join(tmpdir(), 'daytime-haproxy-'));
  const check = spawnSync('haproxy', ['-c', '-f', `${ROOT}deploy/haproxy/daytime.cfg`], {
    encoding: 'utf8',
    env: {
      ...process.env,
      DAYTIME_BIND: '127.0.0.1',
      DAYTIME_HOST1: '192.0.2.11',
      DAYTIME_HOST2: '192.0.2.12',
      DAYTIME_HOST3: '192.0.2.13',
      DAYTIME_RUN: run,
    },
  });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  assert.match(check.stdout, /Configuration file is valid/);
});
