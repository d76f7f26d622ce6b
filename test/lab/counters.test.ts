import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { netnsUnavailable } from '../../src/kernel/netns.ts';
import { counterDelta, readKernelCounters } from '../../src/kernel/netstat.ts';
import type { BurstRow } from '../../src/lab/findings.ts';
import { formatLabSummary } from '../../src/lab/format-summary.ts';
import { RawSocket, SOCK_STREAM } from '../../src/lab/raw-socket.ts';
import { renderLabHtml } from '../../src/lab/report-html.ts';
import { type LabReport, runLab } from '../../src/lab/run-lab.ts';
import { CLI_ENV, collect, ROOT } from '../helpers/cli.ts';
import { missingPeer } from '../helpers/peers.ts';
import { waitFor } from '../helpers/proc.ts';

// The burst experiment's SYN cookies and ListenOverflows are namespace-wide counters: on a busy
// machine they count everyone's. Here this process makes that other traffic itself, in its own (the
// machine's) namespace, while the lab runs. The experiments read counters, so these run one by one.
const skip = process.platform === 'linux' ? undefined : 'the lab needs Linux';
const namespaces = netnsUnavailable('unshare');
const COOKIES = 'TcpExtSyncookiesSent';
const OVERFLOWS = 'TcpExtListenOverflows';

// Another program's traffic: a listen(1) socket that accepts one connection every 20 ms, and every
// 100 ms 20 clients at once, each kept 2.5 s so that it retries its SYN together with the others (which
// is what makes SYN cookies, as in the burst) and overflows. Bounded: 10,000 clients at most, and
// stopped by the caller.
async function otherTraffic() {
  const listener = await RawSocket.inet(SOCK_STREAM);
  await listener.listen(1);
  const clients = new Set<net.Socket>();
  let made = 0;
  const acceptor = setInterval(() => {
    const fd = listener.acceptOne();
    if (fd !== undefined) listener.closeFd(fd);
  }, 20);
  const waves = setInterval(() => {
    for (let i = 0; i < 20 && made < 10_000; i++, made++) {
      const socket = net.connect(listener.port, '127.0.0.1').on('error', () => {});
      clients.add(socket);
      setTimeout(() => {
        socket.destroy();
        clients.delete(socket);
      }, 2500);
    }
  }, 100);
  // Under way once it makes cookies (the first retries come after a second).
  const start = readKernelCounters();
  await waitFor(
    () => counterDelta(start, readKernelCounters(), COOKIES) ?? 0,
    (cookies) => cookies > 0,
  );
  return () => {
    clearInterval(waves);
    clearInterval(acceptor);
    for (const socket of clients) socket.destroy();
    listener.close();
  };
}

const total = (rows: BurstRow[], key: 'syncookiesSent' | 'listenOverflows') =>
  rows.reduce((n, r) => n + ((r as BurstRow & { listenOverflows?: number })[key] ?? 0), 0);

test('as root the burst counts in a namespace of its own: cookies and overflows made meanwhile in the machine’s do not show up', {
  timeout: 120_000,
}, async (t) => {
  if (skip) return t.skip(skip);
  if (namespaces) return missingPeer(t, namespaces);
  const stop = await otherTraffic();
  const before = readKernelCounters();
  const report = await runLab({ only: ['burst'] }).finally(stop);
  const after = readKernelCounters();
  const [burst] = report.experiments;
  assert.deepEqual(burst?.counters, { scope: 'namespace' });
  const rows = burst?.measurements.summary as BurstRow[];
  const elsewhere = {
    cookies: counterDelta(before, after, COOKIES),
    overflows: counterDelta(before, after, OVERFLOWS),
  };
  t.diagnostic(`the other traffic: ${JSON.stringify(elsewhere)}; the burst: ${JSON.stringify(rows)}`);
  assert.ok((elsewhere.cookies ?? 0) > 0 && (elsewhere.overflows ?? 0) > 0, 'the other traffic made both');
  // Counted in the machine's namespace, the burst would have taken in nearly all of the other traffic.
  assert.ok(total(rows, 'syncookiesSent') < (elsewhere.cookies ?? 0) / 2, 'not the other traffic’s cookies');
  assert.ok(total(rows, 'listenOverflows') < (elsewhere.overflows ?? 0) / 2, 'not its overflows');
  assert.match(
    formatLabSummary(report),
    /\n +Counters: from a network namespace made for this experiment alone\.\n/,
  );
});

// As root, the lab is run as nobody: no namespaces, the machine's counters.
const asNobody =
  process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];

test('without root the report says the counters are the machine’s, with their rate just before', {
  timeout: 120_000,
}, async (t) => {
  if (skip) return t.skip(skip);
  if (asNobody.length && spawnSync('setpriv', ['--version']).status !== 0)
    return missingPeer(t, 'needs setpriv (util-linux) to run the lab without root');
  const stop = await otherTraffic();
  const [command = '', ...prefix] = [...asNobody, process.execPath];
  const child = spawn(command, [...prefix, `${ROOT}dist/cli.js`, 'lab', '--only', 'burst', '--json'], {
    cwd: '/',
    env: CLI_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result = await collect(child).finally(stop);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as LabReport;
  const [burst] = report.experiments;
  assert.equal(burst?.counters?.scope, 'machine');
  const rates = burst?.counters?.scope === 'machine' ? burst.counters.backgroundPerSecond : {};
  assert.deepEqual(Object.keys(rates).sort(), [OVERFLOWS, COOKIES, 'TcpExtTCPReqQFullDoCookies'].sort());
  assert.ok(
    (rates[COOKIES] ?? 0) > 0,
    `the other traffic's cookies, measured before: ${JSON.stringify(rates)}`,
  );
  const summary = formatLabSummary(report);
  assert.match(
    summary,
    new RegExp(
      `\\n +Counters: this machine's, which its other traffic adds to \\(as root, the experiment gets a network namespace of its own\\); their rate in the second before it: SyncookiesSent ${rates[COOKIES]}/s, `,
    ),
  );
  assert.match(await renderLabHtml(report), /<small class="counters">Counters: this machine's, /);
});

test('a result the research notes did not expect is named for that, and the popular answer’s claims say where it is wrong', async (t) => {
  if (skip) return t.skip(skip);
  const report = await runLab({ only: ['capacity', 'burst', 'somaxconn-clamp'] });
  const summary = formatLabSummary(report);
  const html = await renderLabHtml(report);
  for (const text of [summary, html]) assert.doesNotMatch(text, /DIFFERS|\bdiffers<\/td>/);
  const marks = [...summary.matchAll(/^\[([^\]]+)\] /gm)].map((m) => m[1]);
  assert.deepEqual(
    marks,
    report.experiments.map((e) =>
      e.status === 'ok'
        ? 'as expected'
        : e.status === 'differs'
          ? 'differs from the research notes'
          : 'skipped',
    ),
  );
  for (const e of report.experiments.filter((r) => r.status === 'differs'))
    assert.ok(summary.includes(`\n  The research notes expected: ${e.expected}.\n`), e.id);
  assert.match(
    summary,
    /"The backlog is silently limited to between 1 and 5\." The popular answer is wrong here\. /,
  );
  assert.match(html, /class="verdict does-not-hold">wrong here</);
});
