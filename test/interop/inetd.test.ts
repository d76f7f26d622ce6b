import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeTime } from '../../src/index.ts';
import { CLI_ENV, ROOT, runCli } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { CTIME_LINE, rawQuery } from '../helpers/raw-client.ts';

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
const NODE = `${ROOT}node_modules/.bin/node`;

// An inetd-style spawner: socat accepts, and for each connection runs `daytime serve --inetd` with the
// connection on its standard input and output (inetd's "nowait").
async function spawner(args: string) {
  const port = await freePort();
  const child = spawn(
    'socat',
    [
      `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
      `EXEC:${NODE} ${ROOT}dist/cli.js serve --inetd${args ? ` ${args}` : ''}`,
    ],
    { env: CLI_ENV, stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    if (spawnSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).stdout.includes('LISTEN')) break;
    await sleep(50);
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

test('serve --inetd under socat EXEC: one line per connection, from a process of its own', async (t) => {
  if (!hasSocat) return missingPeer(t, 'socat is not installed (apt-get install socat)');
  const { port, stop } = await spawner('');
  try {
    // Each resolved on the server's EOF: the process ended the connection it was handed.
    const replies = await Promise.all(Array.from({ length: 5 }, () => rawQuery(port)));
    for (const reply of replies) assert.match(reply.data.toString('latin1'), CTIME_LINE);
  } finally {
    stop();
  }
});

test('serve --inetd time: the 4 bytes of RFC 868; --format iso: that line', async (t) => {
  if (!hasSocat) return missingPeer(t, 'socat is not installed (apt-get install socat)');
  const time = await spawner('time');
  const iso = await spawner('--format iso');
  try {
    const reply = await rawQuery(time.port);
    assert.equal(reply.data.length, 4);
    assert.ok(Math.abs(decodeTime(reply.data) - Date.now()) < 5000);
    assert.match(
      (await rawQuery(iso.port)).data.toString('latin1'),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\r\n$/,
    );
  } finally {
    time.stop();
    iso.stop();
  }
});

test('serve --inetd with an option that chooses sockets: exit 2, one line naming both', async () => {
  for (const [flag, value] of [
    ['--port', '13'],
    ['--workers', '2'],
    ['--udp', undefined],
  ] as const) {
    const r = await runCli(['serve', '--inetd', flag, ...(value ? [value] : [])]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^daytime serve: --inetd and ${flag} cannot be used together: inetd hands over one connection`,
      ),
    );
  }
  const r = await runCli(['serve', '--inetd', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--inetd must be one of daytime, time/);
});
