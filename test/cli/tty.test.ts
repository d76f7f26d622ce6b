import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDaytimeServer } from '../../src/index.ts';
import { runCli, runCliOnTty, scriptPath } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { listenPort } from '../helpers/raw-client.ts';

const BAR = /[█░]{30} \d+%/;
const REDRAW = '\x1b[J';

const noScript = scriptPath ? undefined : 'script(1) (util-linux) is not installed';

describe('on a terminal the CLI draws live; piped it does not', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0 });
  let port = 0;
  before(async () => {
    port = await listenPort(server);
  });
  after(() => server.close());

  test('bench: a progress bar on the terminal, then the table; none when stderr is a pipe', async (t) => {
    if (noScript) return missingPeer(t, noScript);
    // The bar is drawn once a second: 2.5 s gives it two turns.
    const args = ['bench', `127.0.0.1:${port}`, '--duration', '2.5', '--connections', '4'];
    const tty = await runCliOnTty(args);
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.match(tty.stdout, BAR);
    assert.match(tty.stdout, /conn\/s\s+[\d,]+/);
    const piped = await runCli(args);
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, BAR);
    assert.match(piped.stderr, /conn\/s\s+[\d,]+/);
  });

  test('watch: each sample redraws the last in place on the terminal; piped, samples are appended', async (t) => {
    if (noScript) return missingPeer(t, noScript);
    const args = ['watch', String(port), '--count', '3', '--interval', '0.2'];
    const tty = await runCliOnTty(args);
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    // Three samples: the second and third each erase the one before.
    assert.equal(tty.stdout.split(REDRAW).length - 1, 2);
    const piped = await runCli(args);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(!piped.stdout.includes(REDRAW));
    assert.equal(piped.stdout.split(`  port ${port}  `).length - 1, 3, piped.stdout);
  });
});
