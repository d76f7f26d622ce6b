import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { runBin } from '../helpers/cli.ts';
import { assertRefusedAlike, runCliCases } from '../helpers/cli-cases.ts';

// Every flag of every subcommand with wrong types, out-of-range and huge numbers, empty strings and
// non-ASCII text: one line on stderr naming the flag, exit 2, no stack trace, nothing on stdout (a
// server that had bound would have logged there).
const numbers = ['', 'x', '-1', '1.5', '1e3', '99999999999999999999', '٣', '０'];
const cases: { args: string[]; flag: string }[] = [];
const add = (command: string[], flag: string, values: string[], extra: string[] = []) => {
  for (const value of values) cases.push({ args: [...command, flag, value, ...extra], flag });
};
add(['serve'], '--host', ['', 'bücher.example', 'two words']);
add(['serve'], '--port', numbers.filter((v) => v !== '-1' && v !== '1e3').concat(['65536', '-5']));
add(['serve'], '--time-port', numbers.concat(['65536']));
add(['serve'], '--backlog', numbers.concat(['0', '65536']));
add(['serve'], '--format', ['', 'XML', 'ctimé']);
add(['serve'], '--udp-rate', numbers.concat(['0']), ['--udp']);
add(['serve'], '--udp-global-rate', numbers.concat(['0']), ['--udp']);
add(['serve'], '--workers', numbers.concat(['0', '257']));
add(['serve'], '--max-connections', numbers.concat(['0']));
add(['serve'], '--write-timeout', ['', 'x', '-1', '0', '1e9', '٣', '99999999999999999999']);
add(['serve'], '--drain-timeout', ['', 'x', '-1', '1e9', '٣', '99999999999999999999']);
add(['serve'], '--metrics', ['', 'x:y', 'host:0', 'host:99999', 'bücher:1']);
add(['serve'], '--log-format', ['', 'xml', 'jsön']);
add(['serve'], '--accept', ['', 'fast', 'LIBC', 'libç']);
add(['serve'], '--accept', ['handle', 'fast'], ['--proxy-protocol', '--proxy-from', 'any']);
add(
  ['serve'],
  '--proxy-timeout',
  ['', 'x', '-1', '0', '1e9', '٣'],
  ['--proxy-protocol', '--proxy-from', 'any'],
);
add(
  ['serve'],
  '--proxy-from',
  ['', 'x', '10.0.0.0/33', 'fe80::1%eth0', '10.0.0.0/8,', 'any,10.0.0.0/8'],
  ['--proxy-protocol'],
);
// Without the flag they configure, or without the one they need: both named in the line.
add(['serve'], '--proxy-from', ['any']);
add(['serve'], '--proxy-timeout', ['3']);
cases.push({ args: ['serve', '--proxy-protocol'], flag: '--proxy-protocol' });
add(['get'], '--timeout', ['', 'x', '-1', '0', '1e9', '٣']);
add(['bench'], '--connections', numbers.concat(['0', '100001']));
add(['bench'], '--duration', ['', 'x', '-1', '0', '1e9', '٣']);
add(['bench'], '--count', numbers.concat(['0']));
add(['bench'], '--workers', numbers.concat(['0', '65']));
add(['bench'], '--timeout', ['', 'x', '-1', '0', '٣']);
add(['bench'], '--connect', ['', 'fast', 'LIBC', 'libç']);
add(['watch', '9999'], '--interval', ['', 'x', '-1', '0', '٣']);
add(['watch', '9999'], '--count', numbers.concat(['0']));
for (const target of ['', 'host:', 'host:x', 'host:0', 'host:99999', '[::1]:x', 'bücher', 'a b']) {
  cases.push({ args: ['get', target], flag: 'target' }, { args: ['bench', target], flag: 'target' });
}
for (const port of ['', '0', 'x', '70000', '٣', '-1']) cases.push({ args: ['watch', port], flag: 'port' });

test(`bad input: ${cases.length} wrong flag values, each one line and exit 2`, async () => {
  const results = await runCliCases(cases.map(({ args }) => args));
  const failures: string[] = [];
  results.forEach((r, i) => {
    const { args, flag } = cases[i] ?? { args: [], flag: '' };
    const label = `daytime ${args.map((a) => JSON.stringify(a)).join(' ')}`;
    const lines = r.stderr.trimEnd().split('\n');
    if (r.code !== 2) failures.push(`${label}: exit ${r.code}`);
    else if (lines.length !== 1) failures.push(`${label}: ${lines.length} lines: ${r.stderr}`);
    else if (/\n\s+at |Error:/.test(r.stderr)) failures.push(`${label}: a stack trace`);
    else if (r.stdout !== '') failures.push(`${label}: stdout ${r.stdout}`);
    else if (!r.stderr.includes(flag === 'target' ? 'target' : flag) && !/argument|option/.test(r.stderr)) {
      failures.push(`${label}: does not name ${flag}: ${r.stderr}`);
    }
  });
  assert.deepEqual(failures, []);
});

// The bin itself, for a few of them: the exit status the shell sees, and the same line as above.
test('bad input, as processes of their own: exit 2 and the same one line', async () => {
  await assertRefusedAlike([
    ['serve', '--port', 'x'],
    ['serve', '--proxy-from', 'any'],
    ['get', 'host:0'],
    ['bench', '--connections', '0'],
    ['watch', '9999', '--interval', '٣'],
  ]);
});

test('get against misbehaving servers: a clear line and exit 1 within its timeout', async () => {
  const behaviours: [string, (s: net.Socket) => void, RegExp][] = [
    ['sends nothing', (s) => s.end(), /closed without sending a line/],
    ['sends 1 MiB', (s) => s.end(Buffer.alloc(1 << 20, 65)), /exceeds 512 bytes/],
    ['sends no CRLF', (s) => s.end('Tue Nov 24 10:00:00 2026'), /does not end in CRLF/],
    ['closes mid-line', (s) => s.end('Tue Nov 24 1'), /does not end in CRLF/],
    ['hangs', () => {}, /no complete reply .* within 1 s/],
  ];
  // Each against a server of its own, all at once.
  await Promise.all(
    behaviours.map(async ([name, behaviour, pattern]) => {
      const sockets: net.Socket[] = [];
      const server = net.createServer((s) => {
        sockets.push(s.on('error', () => {}));
        behaviour(s);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const started = Date.now();
      const r = await runBin(['get', `127.0.0.1:${port}`, '--timeout', '1']);
      const elapsed = Date.now() - started;
      for (const s of sockets) s.destroy();
      server.close();
      assert.equal(r.code, 1, name);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, pattern, name);
      // Generous: the 1 s timeout plus a loaded machine's process start.
      assert.ok(elapsed < 30_000, `${name}: ${elapsed} ms`);
    }),
  );
});
