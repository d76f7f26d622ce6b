// The harness's CPU clock (bench/lib): the parsers against the kernel's formats, and the readers against
// what processes say they used themselves (getrusage, the scheduler's clock too), burnt by
// test/fixtures/cpu-burner.ts.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cpuCgroupUnavailable, makeCpuCgroup } from '../../bench/lib/cgroup.ts';
import {
  cpuCgroupMount,
  parseCgroupCpuStat,
  parseCpuacctUsage,
  parseProcStat,
  parseSchedstat,
} from '../../bench/lib/cpu-clock.ts';
import { busyLessLoadGen, machineSample } from '../../bench/lib/machine-busy.ts';
import { cpuSample } from '../../bench/lib/proc.ts';
import { missingPeer } from '../helpers/peers.ts';

const BURNER = fileURLToPath(new URL('../fixtures/cpu-burner.ts', import.meta.url));
const burner = (...args: string[]) =>
  spawn(process.execPath, [BURNER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });

const lines = (child: ChildProcess) => createInterface({ input: child.stdout as NodeJS.ReadableStream });
const firstLine = async (child: ChildProcess) => ((await once(lines(child), 'line')) as [string])[0];

describe('parsers of the kernel CPU counters', () => {
  test('schedstat: the first of three fields, in ns; anything else is refused', () => {
    assert.equal(parseSchedstat('1425301873 392839112 7113\n'), 1425301873);
    assert.equal(parseSchedstat('0 70365 1'), 0);
    for (const text of ['', '1425301873 392839112', 'a b c\n', '1 2 3 4\n', '-1 2 3\n', '1  2 3\n'])
      assert.throws(() => parseSchedstat(text), { code: 'ERR_CPU_CLOCK_FORMAT' }, JSON.stringify(text));
    assert.ok(parseSchedstat(execFileSync('cat', ['/proc/self/schedstat'], { encoding: 'utf8' })) >= 0);
  });

  test('cgroup v1 cpuacct.usage (ns) and v2 cpu.stat (usage_usec, to ns)', () => {
    assert.equal(parseCpuacctUsage('502197961\n'), 502197961);
    assert.throws(() => parseCpuacctUsage('user 11929\nsystem 6575\n'), { code: 'ERR_CPU_CLOCK_FORMAT' });
    const stat = 'usage_usec 815032\nuser_usec 600000\nsystem_usec 215032\nnice_usec 0\n';
    assert.equal(parseCgroupCpuStat(stat), 815032000);
    assert.throws(() => parseCgroupCpuStat('user_usec 1\n'), { code: 'ERR_CPU_CLOCK_FORMAT' });
    assert.throws(() => parseCgroupCpuStat('usage_usec x\n'), { code: 'ERR_CPU_CLOCK_FORMAT' });
  });

  test('/proc/stat: busy is user + nice + system + irq + softirq; guest is not counted twice', () => {
    const text =
      'cpu  17783 5 8857 25053 1052 7 414 73 100 3\ncpu0 8292 0 4003 13806 290 0 185 35 0 0\nintr 1\n';
    assert.deepEqual(parseProcStat(text), {
      busy: 17783 + 5 + 8857 + 7 + 414,
      idle: 25053,
      iowait: 1052,
      steal: 73,
    });
    assert.throws(() => parseProcStat('cpu0 1 2 3 4 5 6 7 8\n'), { code: 'ERR_CPU_CLOCK_FORMAT' });
  });

  test('the cgroup hierarchy: v1 cpuacct where mounted, else cgroup2, else none', () => {
    const hybrid = [
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
      'cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
    ].join('\n');
    assert.deepEqual(cpuCgroupMount(hybrid), { kind: 'cpuacct', dir: '/sys/fs/cgroup/cpuacct' });
    const joined = 'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n';
    assert.deepEqual(cpuCgroupMount(joined), { kind: 'cpuacct', dir: '/sys/fs/cgroup/cpu,cpuacct' });
    const v2 = 'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n';
    assert.deepEqual(cpuCgroupMount(v2), { kind: 'cgroup2', dir: '/sys/fs/cgroup' });
    assert.equal(cpuCgroupMount('proc /proc proc rw 0 0\n'), undefined);
  });
});

describe('the readers, against the kernel', {
  skip: existsSync('/proc/self/task') ? false : 'needs Linux /proc',
}, () => {
  test('cpuSample sums every thread: a worker thread that burnt 200 ms and the main thread 200 ms', async () => {
    const child = burner('threads', '200');
    try {
      const reported = Number(await firstLine(child)) / 1000;
      const sample = cpuSample(child.pid ?? 0);
      assert.ok(sample.tids.length > 2, `threads ${sample.tids.length}`);
      // The child sleeps now, so its schedstat is up to date; it spent a little more after reporting.
      const read = sample.cpuUs / 1000;
      assert.ok(
        read >= 400 && read >= reported - 5 && read <= reported + 50,
        `schedstat ${read} ms, getrusage ${reported} ms`,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('machineSample: a reaped child counts as load generator, busy time covers it', () => {
    const before = machineSample();
    const out = execFileSync(process.execPath, [BURNER, 'burn', '300'], { encoding: 'utf8' });
    const after = machineSample();
    const reported = Number(out.trim()) / 1000;
    const children = (after.loadGenUs - before.loadGenUs) / 1000;
    assert.ok(
      children >= reported && children <= reported + 100,
      `getrusage children ${children} ms, the child said ${reported}`,
    );
    // Tick-sampled and machine-wide: only bounded loosely (it includes the child's 300 ms and more).
    const busy = (after.busyUs - before.busyUs) / 1000;
    assert.ok(busy >= reported - 40, `machine busy ${busy} ms`);
    assert.equal(
      busyLessLoadGen(before, after, 2),
      (after.busyUs - before.busyUs - (after.loadGenUs - before.loadGenUs)) / 2,
    );
  });

  test('a cgroup of its own counts the children a process forks, and is removed again', async (t) => {
    const why = cpuCgroupUnavailable();
    if (why) return missingPeer(t, why);
    const group = makeCpuCgroup('test');
    // The parent forks a child (after it is in the group) that burns 300 ms and exits.
    const parent = burner('fork', '300');
    try {
      group.add(parent.pid ?? 0);
      const before = group.usageUs();
      const own = cpuSample(parent.pid ?? 0).cpuUs;
      parent.stdin?.write('go\n');
      assert.equal(await firstLine(parent), 'done');
      const grew = (group.usageUs() - before) / 1000;
      const ownGrew = (cpuSample(parent.pid ?? 0).cpuUs - own) / 1000;
      assert.ok(grew >= 300, `the group grew ${grew} ms`);
      assert.ok(grew - ownGrew >= 290, `the parent's own threads grew ${ownGrew} ms of the group's ${grew}`);
    } finally {
      parent.kill('SIGTERM');
      await once(parent, 'close');
      assert.equal(group.remove(), undefined);
      assert.equal(existsSync(group.dir), false);
    }
  });
});
