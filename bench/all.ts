// Every harness whose figures README.md and bench/README.md quote, one after another, each writing the
// result file those figures cite (bench/results/*.json) and its table beside it (*.table.md), so that
// re-measuring on a quiet machine is one command. Steps that need what is not here (root, Chromium,
// HAProxy) are skipped with the reason; a step that fails does not stop the others; the exit code is 1
// if any failed. About 40 minutes in all on the project's 2-vCPU machines.
//   npm run bench:figures                            (builds dist/ first)
//   flock /work/bench.lock node bench/all.ts [--only compare,proxy] [--dry-run]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.ts';
import { ENV } from './lib/peers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// Relative to ROOT, where the steps run (with the pinned Node first on PATH: peers.ts's ENV).
const RESULTS = 'bench/results/';

interface Step {
  name: string;
  // What it feeds: the section of bench/README.md (and README.md) that quotes it.
  feeds: string;
  command: string[];
  // The result file; a harness that takes no --json writes it itself (faults), or prints it (fleet).
  json: string;
  jsonFrom?: 'stdout';
  needs?: () => string | undefined;
}

const root = () => (process.getuid?.() === 0 ? undefined : 'needs root');
const has = (path: string, why: string) => () => (existsSync(path) ? undefined : why);
const harness = (file: string, ...args: string[]) => ['node', `bench/${file}`, ...args];

const STEPS: Step[] = [
  {
    name: 'compare',
    feeds: 'bench/README.md "Latest figures"; README.md "Performance"',
    command: harness('compare.ts', '--json', `${RESULTS}latest.json`),
    json: 'latest.json',
  },
  {
    name: 'soak-uring',
    feeds: 'bench/README.md "Soak" (and the issue 17 targets)',
    command: harness('soak.ts', '--accept', 'uring', '--json', `${RESULTS}soak-uring.json`),
    json: 'soak-uring.json',
  },
  {
    name: 'soak-libc',
    feeds: 'bench/README.md "Soak" (the libc path)',
    command: harness('soak.ts', '--accept', 'libc', '--json', `${RESULTS}soak.json`),
    json: 'soak.json',
  },
  {
    name: 'loop-latency',
    feeds: 'bench/README.md "The event loop during a flood"',
    command: harness('loop-latency.ts', '--json', `${RESULTS}loop-latency.json`),
    json: 'loop-latency.json',
  },
  {
    name: 'burst',
    feeds: 'bench/README.md "4,000 connections at once"',
    command: harness('burst.ts', '--json', `${RESULTS}burst.json`),
    json: 'burst.json',
  },
  {
    name: 'scrape-burst',
    feeds: 'bench/README.md "Scrapes during a burst"',
    command: harness('scrape-burst.ts', '--json', `${RESULTS}scrape-burst.json`),
    json: 'scrape-burst.json',
  },
  {
    name: 'proxy',
    feeds: 'bench/README.md "Behind a balancer"',
    command: harness('proxy.ts', '--json', `${RESULTS}proxy.json`),
    json: 'proxy.json',
  },
  {
    name: 'udp-flood',
    feeds: 'bench/README.md "UDP under a flood"; README.md (the mmsg path)',
    command: harness('udp-flood.ts', '--json', `${RESULTS}udp-flood.json`),
    json: 'udp-flood.json',
    needs: root,
  },
  {
    name: 'faults',
    feeds: 'bench/README.md "Faults at scale" (--accept auto); README.md (what that buys)',
    command: harness('faults.ts'),
    json: 'faults.json',
    needs: root,
  },
  {
    name: 'faults-libc',
    feeds: 'bench/README.md "Faults at scale" (the kills again with --accept libc)',
    command: harness('faults.ts', '--accept', 'libc', '--only', 'SIGKILLed'),
    json: 'faults-libc.json',
    needs: root,
  },
  {
    name: 'faults-uring-accept',
    feeds: 'bench/README.md "Faults at scale" (the kills again with --accept uring-accept)',
    command: harness('faults.ts', '--accept', 'uring-accept', '--only', 'SIGKILLed'),
    json: 'faults-uring-accept.json',
    needs: root,
  },
  {
    name: 'playground',
    feeds: 'bench/README.md "The playground in the browser"; README.md (the playground)',
    command: harness('playground.ts', '--json', `${RESULTS}playground.json`),
    json: 'playground.json',
    needs: has('/usr/bin/chromium', 'needs /usr/bin/chromium (apt-get install chromium)'),
  },
  {
    name: 'fleet',
    feeds: 'README.md "Running a fleet"; bench/README.md (behind a balancer)',
    command: ['node', 'dist/cli.js', 'fleet', '--json'],
    json: 'fleet.json',
    jsonFrom: 'stdout',
    needs: () =>
      root() ??
      (spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0 ? undefined : 'needs haproxy'),
  },
];

const { values } = parseArgs({
  options: { only: { type: 'string', default: '' }, 'dry-run': { type: 'boolean', default: false } },
});
const only = String(values.only).split(',').filter(Boolean);
const unknown = only.filter((name) => !STEPS.some((s) => s.name === name));
if (unknown.length) {
  process.stderr.write(
    `all: no step ${unknown.join(', ')}; the steps: ${STEPS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}

// One step, its stdout kept (the table, or fleet's JSON) and shown as it comes.
async function run(step: Step): Promise<number> {
  const [file = '', ...args] = step.command;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], env: ENV, cwd: ROOT });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
    process.stdout.write(chunk);
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code === 0) {
    const file = step.jsonFrom === 'stdout' ? step.json : step.json.replace(/\.json$/, '.table.md');
    writeFileSync(`${ROOT}${RESULTS}${file}`, out);
  }
  return code;
}

const outcome: string[] = [];
let failed = 0;
process.stderr.write(`all: ${describeMachine().label}\n`);
for (const step of STEPS.filter((s) => only.length === 0 || only.includes(s.name))) {
  const missing = step.needs?.();
  const line = `${step.name}: ${step.command.join(' ')}${step.jsonFrom ? ` > ${RESULTS}${step.json}` : ''}`;
  if (missing) outcome.push(`skipped ${step.name} (${missing})`);
  else if (values['dry-run'])
    outcome.push(`would run ${line}   # -> bench/results/${step.json}; ${step.feeds}`);
  else {
    process.stderr.write(`\nall: ${line}\n`);
    const started = Date.now();
    const code = await run(step);
    const took = `${Math.round((Date.now() - started) / 1000)} s`;
    if (code !== 0) failed++;
    outcome.push(
      `${code === 0 ? 'ok' : `FAILED (exit ${code})`} ${step.name} in ${took} -> bench/results/${step.json}`,
    );
  }
}
process.stderr.write(`\n${outcome.join('\n')}\n`);
process.exit(failed ? 1 : 0);
