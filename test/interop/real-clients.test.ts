import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createDaytimeServer } from '../../src/index.ts';
import { missingPeer } from '../helpers/peers.ts';
import { CTIME_LINE } from '../helpers/raw-client.ts';

const run = promisify(execFile);
const has = (command: string) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = (tool: string, pkg: string) => `${tool} is not installed (apt-get install ${pkg})`;
// Clients print the time in the zone of their environment; UTC makes it parseable.
const env = { ...process.env, TZ: 'UTC' };

// Old clients, as inetd's internal services would meet them. rdate always gets -p: print, never set the clock.
describe('real clients talk to daytime and time, TCP and UDP', () => {
  const server = createDaytimeServer({ host: '127.0.0.1', port: 0, timePort: 0, udp: true, udpRate: 1000 });
  let daytime = 0;
  let time = 0;
  before(async () => {
    const listeners = await server.listen();
    daytime = listeners.find((l) => l.service === 'daytime')?.port ?? 0;
    time = listeners.find((l) => l.service === 'time')?.port ?? 0;
  });
  after(() => server.close());

  // The clients print whole seconds, so the printed time is compared with the clock while they ran,
  // floored to the second.
  const withinTwoSeconds = (text: string, startedAt: number) => {
    const printed = Date.parse(text.trim().replace(/^rdate: \[[^\]]+\]\s*/, ''));
    assert.ok(Number.isFinite(printed), `a date in ${JSON.stringify(text)}`);
    const earliest = Math.floor(startedAt / 1000) * 1000 - 2000;
    assert.ok(
      printed >= earliest && printed <= Date.now() + 2000,
      `${text} is within 2 s of the local clock`,
    );
  };
  const timed = async (command: string, args: string[]) => {
    const startedAt = Date.now();
    const { stdout } = await run(command, args, { env, timeout: 30_000 });
    return { stdout, startedAt };
  };

  test('rdate -p -o PORT (TCP)', async (t) => {
    if (!has('rdate')) return missingPeer(t, missing('rdate', 'rdate'));
    const { stdout, startedAt } = await timed('rdate', ['-p', '-o', String(time), '127.0.0.1']);
    withinTwoSeconds(stdout, startedAt);
  });

  test('rdate -p -u -o PORT (UDP)', async (t) => {
    if (!has('rdate')) return missingPeer(t, missing('rdate', 'rdate'));
    const { stdout, startedAt } = await timed('rdate', ['-p', '-u', '-o', String(time), '127.0.0.1']);
    withinTwoSeconds(stdout, startedAt);
  });

  test('busybox rdate -p HOST:PORT', async (t) => {
    if (!has('busybox')) return missingPeer(t, missing('busybox', 'busybox'));
    const { stdout, startedAt } = await timed('busybox', ['rdate', '-p', `127.0.0.1:${time}`]);
    // busybox prints ctime without a zone; TZ=UTC made it UTC.
    withinTwoSeconds(`${stdout.trim().replace(/ (\d{4})$/, ' UTC $1')}`, startedAt);
  });

  test('nc -u gets one daytime datagram', async (t) => {
    if (!has('nc')) return missingPeer(t, missing('nc', 'netcat-openbsd'));
    // nc -u sends what it reads: one newline. -w1: stop a second after the reply.
    const child = execFile('nc', ['-u', '-w1', '127.0.0.1', String(daytime)], {
      encoding: 'latin1',
      timeout: 30_000,
    });
    child.stdin?.end('\n');
    const stdout = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (c) => {
        out += c;
      });
      child.on('close', () => resolve(out));
      child.on('error', reject);
    });
    assert.match(stdout, CTIME_LINE);
  });

  for (const transport of ['TCP', 'UDP']) {
    test(`socat ${transport}`, async (t) => {
      if (!has('socat')) return missingPeer(t, missing('socat', 'socat'));
      const child = execFile('socat', ['-t1', '-', `${transport}:127.0.0.1:${daytime}`], {
        encoding: 'latin1',
        timeout: 30_000,
      });
      child.stdin?.end(transport === 'UDP' ? '\n' : '');
      const stdout = await new Promise<string>((resolve) => {
        let out = '';
        child.stdout?.on('data', (c) => {
          out += c;
        });
        child.on('close', () => resolve(out));
      });
      assert.match(stdout, CTIME_LINE);
    });
  }

  test('nmap -sV names the daytime port "daytime" and the time port "time"', async (t) => {
    if (!has('nmap')) return missingPeer(t, missing('nmap', 'nmap'));
    const { stdout } = await run('nmap', ['-sV', '-Pn', '-p', `${daytime},${time}`, '127.0.0.1'], {
      timeout: 120_000,
    });
    assert.match(stdout, new RegExp(`^${daytime}/tcp\\s+open\\s+daytime`, 'm'));
    assert.match(stdout, new RegExp(`^${time}/tcp\\s+open\\s+time`, 'm'));
  });
});
