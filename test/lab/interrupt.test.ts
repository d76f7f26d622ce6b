import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { netnsUnavailable } from '../../src/kernel/netns.ts';
import { collect, pressCtrlC, spawnBin, spawnNpx, stderrShows } from '../helpers/cli.ts';

// Ctrl-C in the middle of `daytime lab`, as a terminal sends it: to every process of the job.
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
