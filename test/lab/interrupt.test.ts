import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { netnsUnavailable } from '../../src/kernel/netns.ts';
import { collect, pressCtrlC, spawnBin, spawnNpx, stderrShows } from '../helpers/cli.ts';

// Ctrl-C in the middle of `daytime lab`, as a terminal sends it: to every process of the job; SIGTERM
// as kill, timeout and systemd's main-process stop send it, to the lab alone; SIGHUP as a closed
// terminal sends it, to the job.
const skip = process.platform === 'linux' ? undefined : 'the lab needs Linux';
const namespaces = netnsUnavailable('unshare');

// Processes still in the job's process group: the namespace runners the lab started, if it left any.
async function leftInGroup(pgid: number | undefined): Promise<string[]> {
  for (let i = 0; i < 40; i++) {
    const ps = spawnSync('pgrep', ['-a', '-g', String(pgid)], { encoding: 'utf8' });
    if (ps.stdout.trim() === '') return [];
    await sleep(100);
  }
  return spawnSync('pgrep', ['-a', '-g', String(pgid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n');
}

const netnsOf = (pid: string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
};

// The lab's children now, with the network namespace each is in.
function children(pid: number): { pid: string; netns: string | undefined }[] {
  const tasks = readdirSync(`/proc/${pid}/task`);
  const pids = tasks.flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean),
  );
  return pids.map((child) => ({ pid: child, netns: netnsOf(child) }));
}

// Every process on the machine in one of these namespaces: none once the namespaces are gone.
function inNamespaces(namespaces: Set<string>): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => namespaces.has(netnsOf(pid) ?? ''));
}

const ipNetns = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';

for (const [label, only] of [
  // As root the namespace experiments run in `unshare --net` children alongside the others.
  ['with the namespace experiments', 'capacity,burst,ns-somaxconn,ns-abort-on-overflow,ns-classic-retry'],
  ['without them', 'capacity,burst,syn-retry'],
] as const) {
  test(`lab ${label}: the partial summary, no stack trace, nothing left running, exit 130`, {
    timeout: 120_000,
  }, async (t) => {
    if (skip) return t.skip(skip);
    if (label.startsWith('with the') && namespaces)
      t.diagnostic(`namespace experiments skipped: ${namespaces}`);
    const args = ['lab', '--only', only];
    // Interrupted once capacity is under way (the namespace experiments have started by then).
    const interrupted = async (child: ReturnType<typeof spawnBin>) => {
      const done = collect(child);
      await stderrShows(child, /lab: capacity: backlog 1\n/);
      pressCtrlC(child);
      return { ...(await done), left: await leftInGroup(child.pid) };
    };
    const npx = await interrupted(spawnNpx(args, { foreground: true }));
    assert.doesNotMatch(npx.stderr, /\n\s+at |Command failed/, 'no stack trace');
    assert.match(npx.stdout, /^daytime lab on Linux/);
    assert.match(
      npx.stdout,
      /^INTERRUPTED: a partial run; \d+ of \d+ experiments were cut short or never started$/m,
    );
    assert.match(npx.stdout, /\[skipped\] .*: Skipped: interrupted\./);
    assert.deepEqual(npx.left, [], 'every process the lab started has ended');
    const bin = await interrupted(spawnBin([...args, '--json']));
    assert.equal(bin.code, 130, bin.stderr);
    const report = JSON.parse(bin.stdout);
    assert.equal(report.interrupted, true);
    assert.deepEqual(bin.left, []);
  });
}

for (const [signal, to] of [
  ['SIGTERM', 'the lab alone'],
  ['SIGHUP', 'the whole job'],
] as const) {
  test(`${signal} to ${to}, as to Ctrl-C: the partial JSON, every child and namespace gone, exit 128 + ${signal}`, {
    timeout: 120_000,
  }, async (t) => {
    if (skip) return t.skip(skip);
    if (namespaces) t.diagnostic(`no namespace runners to end: ${namespaces}`);
    const netnsBefore = ipNetns();
    const host = netnsOf('self');
    const only = 'capacity,burst,ns-somaxconn,ns-abort-on-overflow,ns-classic-retry';
    const child = spawnBin(['lab', '--only', only, '--json']);
    const pid = child.pid as number;
    const done = collect(child);
    await stderrShows(child, /lab: capacity: backlog 1\n/);
    const started = children(pid);
    const made = new Set(started.map((c) => c.netns).filter((n): n is string => !!n && n !== host));
    if (!namespaces) assert.ok(made.size > 0, `namespace runners under way: ${JSON.stringify(started)}`);
    process.kill(to === 'the lab alone' ? pid : -pid, signal);
    const result = await done;
    assert.equal(result.code, 128 + constants.signals[signal], result.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    const report = JSON.parse(result.stdout);
    assert.equal(report.interrupted, true);
    assert.ok(report.experiments.some((e: { skipReason?: string }) => e.skipReason === 'interrupted'));
    assert.deepEqual(await leftInGroup(pid), [], 'every process the lab started has ended');
    for (const { pid: gone } of started) assert.equal(netnsOf(gone), undefined, `process ${gone} is gone`);
    assert.deepEqual(inNamespaces(made), [], 'no process left in a namespace the lab made');
    assert.equal(ipNetns(), netnsBefore, 'no named namespace added');
  });
}
