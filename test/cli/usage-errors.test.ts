import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { assertRefusedAlike, runCliCases } from '../helpers/cli-cases.ts';

// Every case must exit 2 with exactly one line on stderr naming the problem, and bind nothing
// (a server that had bound would have logged "listening" on stdout).
const cases: [string[], RegExp][] = [
  [['serve', '--backlog', '0'], /--backlog must be an integer from 1 to 65535.*511.*daytime lab/],
  [['serve', '--backlog', '65536'], /--backlog must be an integer from 1 to 65535, got "65536"/],
  [['serve', '--backlog', '-1'], /--backlog/],
  [['serve', '--backlog', '1.5'], /--backlog/],
  [['serve', '--backlog', 'many'], /--backlog/],
  [['serve', '--backlog', '99999999999999999999999'], /--backlog/],
  [['serve', '--port', '70000'], /--port must be a port number from 0 to 65535 or a service name/],
  [['serve', '--port', 'no-such-service'], /--port must be a port number .*has no such service/],
  [['serve', '--port', ''], /--port/],
  [['serve', '--format', 'xml'], /--format must be one of ctime, iso, rfc2822/],
  [['serve', '--log-format', 'yaml'], /--log-format must be one of pretty, json/],
  [['serve', '--host', ''], /--host must be a host name or IP address/],
  [['serve', '--host', 'bücher'], /--host/],
  [['serve', '--bogus'], /unknown option '--bogus'/],
  [['serve', '--prot', '1'], /unknown option '--prot'.*--port/],
  [['serve', '--port'], /--port <port>' argument missing/],
  [['get', '--timeout', '0'], /--timeout must be a number of seconds/],
  [['get', '--timeout', 'soon'], /--timeout/],
  [['get', 'localhost:99999'], /target port must be a port number from 1 to 65535 or a service name/],
  [
    ['get', 'localhost:no-such-service'],
    /target port .*got "no-such-service". \/etc\/services has no such service/,
  ],
  [['get', '[::1'], /target must be HOST, HOST:PORT, :PORT, \[IPV6\] or \[IPV6\]:PORT, got "\[::1"/],
  [['get', '[::1]:'], /target must be/],
  [['get', '9464'], /A number alone is a port, not a host \(:9464 or HOST:9464\)/],
  [['get', 'a:b:c'], /target must be/],
  [['get', 'host name'], /target must be/],
  [['get', '--proxy', 'v3'], /--proxy must be one of v1, v2/],
  [['get', '--udp', '--proxy', 'v1'], /^daytime get: --proxy and --udp cannot be used together: /],
  [
    ['get', '--timeout', '1', '--timeout', '2'],
    /^daytime get: --timeout was given twice: it takes one value/,
  ],
  // HOST PORT is nc's order (issue 27); a third argument is one too many.
  [['get', 'a', 'b', 'c'], /too many arguments/],
  [['get', 'localhost', 'no-such-service'], /port argument must be a port number .*has no such service/],
  [['get', 'localhost:13', '9999'], /target must be a HOST alone when a PORT follows/],
  [['watch', '127.0.0.1'], /port argument must be a port number/],
  [['watch', '[::1]'], /target must be PORT, :PORT, HOST:PORT or \[IPV6\]:PORT/],
  [['serve', '--metrics', '127.0.0.1'], /--metrics must be PORT, :PORT or HOST:PORT/],
  [['serve', '--time-port', '9999'], /--time-port must be different from --port/],
  [['serve', '--time-port', 'x'], /--time-port must be a port number from 0 to 65535 or a service name/],
  [['serve', '--proxy-from', 'any'], /--proxy-from needs --proxy-protocol/],
  [['serve', '--proxy-protocol'], /--proxy-protocol needs --proxy-from/],
  [['serve', '--udp-rate', '5'], /--udp-rate needs --udp/],
  [
    ['serve', '--port', '41801', '--metrics', '127.0.0.1:41801'],
    /--metrics must be on a port of its own, not --port's/,
  ],
  [
    ['serve', '--host', '::1', '--time-port', '41802', '--metrics', '[::1]:41802'],
    /--metrics must be on a port of its own, not --time-port's/,
  ],
  [['serve', '--udp-io', 'dgram'], /--udp-io needs --udp/],
  [['serve', '--udp', '--udp-rate', '0'], /--udp-rate must be an integer from 1/],
  [['serve', '--udp', '--udp-global-rate', '1e9'], /--udp-global-rate/],
  [['serve', '--workers', '0'], /--workers must be an integer from 1 to 256/],
  [['serve', '--udp', '--udp-io', 'epoll'], /--udp-io must be one of auto, mmsg, dgram/],
  [['serve', '--max-connections', '-5'], /--max-connections/],
  [['serve', '--write-timeout', '0'], /--write-timeout must be a number of seconds/],
  [['serve', '--drain-timeout', 'forever'], /--drain-timeout/],
  [['serve', '--metrics', 'localhost:99999'], /--metrics port must be a port number from 1 to 65535/],
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['bench', '--connections', '0'], /--connections must be an integer from 1/],
  [['bench', '--duration', 'long'], /--duration must be a number of seconds/],
  [['bench', '--count', '1.5'], /--count/],
  [['bench', '--workers', '65'], /--workers must be an integer from 1 to 64/],
  [['bench', '--workers', '4', '--connections', '2'], /--connections must be at least --workers/],
  [['bench', ':0'], /target port/],
  [
    ['bench', '--count', '10', '--duration', '5'],
    /^daytime bench: --count and --duration cannot be used together: /,
  ],
  [['bench', '-n', '10', '-d', '5'], /--count and --duration cannot be used together/],
  [['bench', '-n', '5', '-n', '10'], /--count was given twice/],
  [['bench', '--connect', 'libc', '--connect', 'socket'], /--connect was given twice/],
  [['watch', 'no-such-service'], /port argument must be a port number from 1 to 65535 or a service name/],
  [['watch', '9999', '-n', '1', '--count', '2'], /--count was given twice/],
  [['lab', '--only', 'capacity', '--only', 'burst'], /--only was given twice/],
  [
    ['lab', '--html', '/nonexistent/dir/x.html'],
    /--html must be a file that can be written.*No directory \/nonexistent\/dir/,
  ],
  [['lab', '--html', '/'], /--html must be a file that can be written.*It is a directory/],
  [['fleet', '-n', '4'], /unknown option '-n'/],
  [['fleet', '--hosts', '4', '--hosts', '5'], /--hosts was given twice/],
  [['fleet', '--only', 'spread,bogus'], /--only must be one of spread, proxy-v2, rolling-restart, kill-host/],
  [['watch'], /missing required argument 'port'/],
  [['watch', '70000'], /port argument must be a port number from 1 to 65535/],
  [['watch', '9999', '--interval', '0'], /--interval/],
  [['watch', '9999', '--count', 'x'], /--count/],
];

test('bad flags exit 2 with one line and bind nothing', async () => {
  const results = await runCliCases(cases.map(([args]) => args));
  results.forEach((result, i) => {
    const [args, pattern] = cases[i] ?? [[], /./];
    const label = `daytime ${args.join(' ')}`;
    assert.equal(result.code, 2, `${label}: exit code`);
    assert.equal(result.stdout, '', `${label}: stdout`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${label}: one line, got ${JSON.stringify(result.stderr)}`);
    assert.match(lines[0] ?? '', pattern, label);
    assert.doesNotMatch(result.stderr, /\n\s+at /, `${label}: no stack trace`);
  });
});

// As processes of their own, one of each kind (commander's own refusal, a value, a conflict, a repeat):
// the exit status the shell sees, and the same line.
test('the same refusals from the bin itself: exit 2 and the same line', async () => {
  await assertRefusedAlike([
    ['serve', '--bogus'],
    ['get', '--timeout', '0'],
    ['serve', '--udp-rate', '5'],
    ['bench', '-n', '5', '-n', '10'],
  ]);
});

test('--help teaches the backlog and exits 0', async () => {
  const result = await runCli(['serve', '--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /backlog \+ 1/);
  assert.match(result.stdout, /somaxconn/);
  assert.match(result.stdout, /--udp-io <path>/);
  assert.match(result.stdout, /UdpRcvbufErrors/);
});
