// `npm test` after the build: every test file, several at a time. A file mostly waits (on processes it
// started, on the kernel, on timers), so node --test runs CONCURRENCY of them at once where its own
// default on a 2-CPU machine is one. The files that read namespace-wide kernel counters
// (OWN_NAMESPACE) would see each other's traffic there, so they run one after another in a network
// namespace of their own, beside the rest; where no namespace can be made (not root, no ip netns),
// one after another once the rest is done. Arguments, if any, choose the files (paths or globs).
// Prints each run's report, then the totals of both.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, globSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makeNetns, netnsUnavailable } from '../src/kernel/netns.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OWN_NAMESPACE = [
  'test/lab/lab.test.ts',
  'test/lab/report.test.ts',
  'test/lab/interrupt.test.ts',
  'test/watch/watch-queue.test.ts',
];
const CONCURRENCY = Number(process.env.DAYTIME_TEST_CONCURRENCY) || Math.max(4, 2 * availableParallelism());
const NODE_TEST = ['--test', '--test-timeout=180000', '--test-reporter=spec'];

for (const file of OWN_NAMESPACE)
  if (!existsSync(`${ROOT}${file}`)) throw new Error(`test/run.ts: ${file} is listed but does not exist`);
const patterns = process.argv.slice(2);
const files = globSync(patterns.length > 0 ? patterns : ['test/**/*.test.ts'], { cwd: ROOT }).sort();
const apart = files.filter((f) => OWN_NAMESPACE.includes(f));
const together = files.filter((f) => !OWN_NAMESPACE.includes(f));

interface Run {
  label: string;
  child: ChildProcess;
  output: string;
  done: Promise<number>;
}

const children = new Set<ChildProcess>();
// Streams the report as it comes (`live`), or keeps it for later; resolves with the exit code.
function start(label: string, command: string[], live: boolean): Run {
  const [file = '', ...args] = command;
  const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const run: Run = { label, child, output: '', done: Promise.resolve(0) };
  child.stdout?.on('data', (chunk: Buffer) => {
    run.output += chunk;
    if (live) process.stdout.write(chunk);
  });
  run.done = once(child, 'close').then(([code, signal]) => {
    children.delete(child);
    return code ?? (signal ? 1 : 0);
  });
  return run;
}

// Ctrl-C or a SIGTERM ends the test runs; the namespace goes in the finally below.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });

const nodeTest = (concurrency: number, list: string[]) => [
  process.execPath,
  ...NODE_TEST,
  `--test-concurrency=${concurrency}`,
  ...list,
];
// The namespace for the counter readers, or why there is none.
function namespace(): { ns?: ReturnType<typeof makeNetns>; why?: string } {
  const why = netnsUnavailable('ip netns');
  if (why) return { why };
  try {
    return { ns: makeNetns('suite') };
  } catch (error) {
    return { why: `ip netns add failed: ${(error as Error).message.split('\n')[0]}` };
  }
}
const { ns, why } = apart.length > 0 ? namespace() : {};
const runs: Run[] = [];
try {
  const separate = ns
    ? start(`${apart.length} files in network namespace ${ns.name}`, ns.exec(nodeTest(1, apart)), false)
    : undefined;
  if (together.length > 0) {
    process.stdout.write(`${together.length} test files, ${CONCURRENCY} at a time\n`);
    const main = start(
      `${together.length} files, ${CONCURRENCY} at a time`,
      nodeTest(CONCURRENCY, together),
      true,
    );
    runs.push(main);
    await main.done;
  }
  if (separate) {
    runs.push(separate);
    await separate.done;
    process.stdout.write(`\n${separate.label} (they read its counters), one at a time:\n${separate.output}`);
  } else if (apart.length > 0) {
    process.stdout.write(
      `\n${apart.length} files that read namespace-wide counters, one at a time (${why}):\n`,
    );
    const serial = start(`${apart.length} files one at a time`, nodeTest(1, apart), true);
    runs.push(serial);
    await serial.done;
  }
} finally {
  ns?.remove();
}

// The totals of the runs, from the lines each report ends with ("ℹ tests 12").
const codes = await Promise.all(runs.map((r) => r.done));
const total = (name: string) =>
  runs.reduce((n, r) => n + Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(r.output)?.[1] ?? 0), 0);
const counts = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'].map((n) => `${total(n)} ${n}`);
process.stdout.write(`\nsuite: ${counts.join(', ')} in ${files.length} files (${runs.length} runs)\n`);
process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
