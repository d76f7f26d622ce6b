// npm run faults [-- --seconds N --accept PATH --only NAME]: the fault matrix. For each fault, `serve --workers 2 --metrics` in a
// network namespace of its own under steady load from `daytime bench`, two scrapers reading /metrics
// every 100 ms, the fault injected, and per fault: connections made and failed, the largest scrape
// time, whether any _total went down, and the time to full strength again. Root (namespaces). Writes
// bench/results/faults.json. Everything it starts is removed again, also on Ctrl-C.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { makeNetns, type Netns, netnsUnavailable } from '../src/kernel/netns.ts';
import {
  type BenchOut,
  load,
  PORT,
  ROOT,
  readyAgain,
  readyCount,
  type Served,
  scrapes,
  startServe,
  workerPid,
} from './lib/fault-run.ts';
import { describeMachine } from './lib/machine.ts';
import { median } from './lib/proc.ts';
import type { Scrape } from './lib/scraper.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '12' },
    // The workers' accept path; results go to faults.json for auto, faults-PATH.json otherwise.
    accept: { type: 'string', default: 'auto' },
    // Only the faults whose name contains this.
    only: { type: 'string', default: '' },
  },
});
const ACCEPT = String(values.accept);
const SECONDS = Math.min(60, Math.max(8, Number(values.seconds)));
const FAULT_AT_MS = 2000;

interface Context {
  ns: Netns;
  served: Served;
  // The package the server runs from (a copy for the fault that moves its dist/ away).
  dir: string;
  burst?: Promise<BenchOut>;
}
interface Fault {
  name: string;
  migrate?: 0 | 1;
  copy?: boolean;
  // More `serve` flags.
  serve?: string[];
  // Acts, and resolves when the fault is over (the moment from which full strength is timed).
  act(c: Context): Promise<string | undefined>;
}

const kill = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal);
  } catch {}
};

const killTenTimes: Fault['act'] = async ({ served }) => {
  for (let i = 0; i < 10; i++) {
    const before = readyCount(served, 1);
    kill(workerPid(served, 1), 'SIGKILL');
    await readyAgain(served, 1, before);
  }
  return undefined;
};

const cannotStart: Fault['act'] = async ({ served, dir }) => {
  renameSync(join(dir, 'dist'), join(dir, 'dist.moved'));
  const before = readyCount(served, 1);
  kill(workerPid(served, 1), 'SIGKILL');
  await sleep(3000);
  renameSync(join(dir, 'dist.moved'), join(dir, 'dist'));
  const failures = served.logs.filter((l) => /could not start/.test(String(l.msg))).length;
  await readyAgain(served, 1, before);
  return `${failures} failed starts, retried`;
};

const FAULTS: Fault[] = [
  { name: 'worker SIGKILLed 10 times in a row (tcp_migrate_req 0)', migrate: 0, act: killTenTimes },
  { name: 'worker SIGKILLed 10 times in a row (tcp_migrate_req 1)', migrate: 1, act: killTenTimes },
  {
    name: 'worker SIGSTOPped for 5 s',
    act: async ({ served }) => {
      const pid = workerPid(served, 1);
      kill(pid, 'SIGSTOP');
      await sleep(5000);
      kill(pid, 'SIGCONT');
      return undefined;
    },
  },
  {
    name: 'primary SIGKILLed',
    act: async ({ ns, served }) => {
      const pids = [served.primary, workerPid(served, 1), workerPid(served, 2)];
      kill(served.primary, 'SIGKILL');
      await sleep(3000);
      const left = pids.filter((pid) => spawnSync('kill', ['-0', String(pid)]).status === 0);
      const listening = execFileSync('ip', ['netns', 'exec', ns.name, 'ss', '-Hltn', `sport = :${PORT}`], {
        encoding: 'utf8',
      }).trim();
      return `${left.length} processes left, port ${listening ? 'still bound' : 'free'}`;
    },
  },
  { name: 'replacement cannot start (tcp_migrate_req 0)', migrate: 0, copy: true, act: cannotStart },
  { name: 'replacement cannot start (tcp_migrate_req 1)', migrate: 1, copy: true, act: cannotStart },
  {
    name: 'EMFILE in one worker for 3 s (prlimit)',
    act: async ({ served }) => {
      const pid = workerPid(served, 1);
      const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
      const [, soft = '1024', hard = '1024'] = /^Max open files\s+(\d+)\s+(\d+)/m.exec(limits) ?? [];
      // The descriptors it has now: the next accept fails with EMFILE.
      const open = execFileSync('ls', [`/proc/${pid}/fd`], { encoding: 'utf8' })
        .trim()
        .split('\n').length;
      execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${open}:${hard}`]);
      await sleep(3000);
      execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${soft}:${hard}`]);
      return `limit ${open} descriptors`;
    },
  },
  {
    // What a worker holds accepted and unanswered when it dies: both workers stopped, a burst queued on
    // their sockets, both continued and one killed 5 ms later. Its clients that were accepted and not
    // answered see EOF without a line (counted shortRead); the rest of its queue waits for the
    // replacement, on the primary's copy of the socket.
    name: 'worker SIGKILLed 5 ms into a burst of 2,000 queued',
    serve: ['--backlog', '4096'],
    act: async (c) => {
      const pids = [workerPid(c.served, 1), workerPid(c.served, 2)];
      const before = readyCount(c.served, 1);
      for (const pid of pids) kill(pid, 'SIGSTOP');
      c.burst = load(c.ns, ['-n', '2000', '-c', '2000', '-w', '2', '-t', '30']);
      await sleep(1500);
      for (const pid of pids) kill(pid, 'SIGCONT');
      await sleep(5);
      kill(pids[0] ?? 0, 'SIGKILL');
      await readyAgain(c.served, 1, before);
      const lost = (await c.burst).errors.shortRead ?? 0;
      return `${lost} of the burst's 2,000 lost`;
    },
  },
  {
    name: '4,000 connections at once',
    act: async (c) => {
      c.burst = load(c.ns, ['-n', '4000', '-c', '4000', '-w', '2', '-t', '30']);
      await c.burst;
      return undefined;
    },
  },
];

interface Row {
  fault: string;
  made: number;
  failed: number;
  failures: Record<string, number>;
  largestScrapeMs: number;
  medianScrapeMs: number;
  unansweredScrapes: number;
  totalWentDown: string[];
  overlappingEqual: boolean | undefined;
  fullStrengthAfterS: number | undefined;
  loopDelayMaxMs: number;
  note: string | undefined;
}

const failedOf = (out: BenchOut | undefined) => Object.values(out?.errors ?? {}).reduce((a, b) => a + b, 0);

function summarize(
  fault: Fault,
  outs: (BenchOut | undefined)[],
  series: Scrape[][],
  faultEnd: number,
  pair: Scrape[],
  note?: string,
): Row {
  const all = series.flat();
  const wentDown = new Set<string>();
  for (const s of series)
    for (let i = 1; i < s.length; i++)
      for (const [name, value] of Object.entries(s[i - 1]?.totals ?? {})) {
        const next = s[i]?.totals[name];
        if (next !== undefined && next < value) wentDown.add(name);
      }
  const full = all
    .filter(
      (s) =>
        s.at >= faultEnd &&
        s.status === 200 &&
        Object.values(s.up).length > 0 &&
        Object.values(s.up).every((u) => u === 1),
    )
    .sort((a, b) => a.at - b.at)[0];
  const failures: Record<string, number> = {};
  for (const out of outs)
    for (const [k, n] of Object.entries(out?.errors ?? {})) if (n) failures[k] = (failures[k] ?? 0) + n;
  const [a, b] = pair;
  return {
    fault: fault.name,
    made: outs.reduce((sum, o) => sum + (o?.ok ?? 0), 0),
    failed: outs.reduce((sum, o) => sum + failedOf(o), 0),
    failures,
    largestScrapeMs: Math.max(0, ...all.filter((s) => s.status === 200).map((s) => s.ms)),
    medianScrapeMs: median(all.filter((s) => s.status === 200).map((s) => s.ms)),
    unansweredScrapes: all.filter((s) => s.status !== 200).length,
    totalWentDown: [...wentDown],
    overlappingEqual:
      a?.status === 200 && b?.status === 200
        ? JSON.stringify(a.totals) === JSON.stringify(b.totals)
        : undefined,
    fullStrengthAfterS: full ? (full.at - faultEnd) / 1000 : undefined,
    loopDelayMaxMs: Math.round(Math.max(0, ...all.map((s) => s.loopDelayMax)) * 1e4) / 10,
    note,
  };
}

async function runFault(fault: Fault, index: number, stop: AbortSignal): Promise<Row> {
  const ns = makeNetns(
    `f${index}`,
    fault.migrate === undefined ? {} : { 'net.ipv4.tcp_migrate_req': fault.migrate },
  );
  const dir = fault.copy ? `${mkdtempSync(join(tmpdir(), 'daytime-faults-'))}/` : ROOT;
  let served: Served | undefined;
  try {
    if (fault.copy) {
      cpSync(`${ROOT}dist`, join(dir, 'dist'), { recursive: true });
      cpSync(`${ROOT}package.json`, join(dir, 'package.json'));
      symlinkSync(`${ROOT}node_modules`, join(dir, 'node_modules'));
    }
    served = await startServe(ns, dir, ACCEPT, fault.serve);
    const context: Context = { ns, served, dir };
    const steady = load(ns, ['-c', '8', '-d', String(SECONDS), '-t', '10']);
    const series = [scrapes(ns, SECONDS + 2), scrapes(ns, SECONDS + 2)];
    await sleep(FAULT_AT_MS);
    const note = stop.aborted ? 'interrupted' : await fault.act(context);
    const faultEnd = Date.now();
    const [out, one, two] = await Promise.all([steady, ...series]);
    // Two scrapes at once once the load is over: the same totals.
    const pair = (await Promise.all([scrapes(ns, 0.05), sleep(30).then(() => scrapes(ns, 0.05))])).map(
      (s) => s[0] as Scrape,
    );
    const burst = context.burst ? await context.burst : undefined;
    served.child.kill('SIGTERM');
    await Promise.race([served.exited, sleep(15_000)]);
    return summarize(fault, [out, burst], [one ?? [], two ?? []], faultEnd, pair, note);
  } finally {
    // Deleting a namespace does not end what runs in it: the server goes first (its workers follow it).
    if (served && served.child.exitCode === null) {
      served.child.kill('SIGKILL');
      await served.exited;
    }
    ns.remove();
    if (fault.copy) rmSync(dir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const head =
    '| fault | made | failed | largest scrape ms (median) | a _total went down | overlapping scrapes equal | full strength after s | largest loop delay ms | note |';
  const lines = rows.map((r) =>
    [
      r.fault,
      r.made,
      r.failed +
        (r.failed
          ? ` (${Object.entries(r.failures)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')})`
          : ''),
      `${r.largestScrapeMs} (${r.medianScrapeMs})${r.unansweredScrapes ? `, ${r.unansweredScrapes} unanswered` : ''}`,
      r.totalWentDown.length ? r.totalWentDown.join(', ') : 'no',
      r.overlappingEqual === undefined ? 'n/a' : r.overlappingEqual ? 'yes' : 'no',
      r.fullStrengthAfterS ?? 'n/a',
      r.loopDelayMaxMs,
      r.note ?? '',
    ].join(' | '),
  );
  return [head, `|${'---|'.repeat(9)}`, ...lines.map((l) => `| ${l} |`)].join('\n');
}

const why = netnsUnavailable('ip netns');
if (why) {
  process.stderr.write(`faults: ${why}\n`);
  process.exit(2);
}
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
const machine = describeMachine();
process.stderr.write(`faults on ${machine.label}, --accept ${ACCEPT}\n`);
const rows: Row[] = [];
for (const [i, fault] of FAULTS.entries()) {
  if (stop.signal.aborted) break;
  if (!fault.name.includes(String(values.only))) continue;
  process.stderr.write(`- ${fault.name}\n`);
  rows.push(await runFault(fault, i, stop.signal));
}
const output = table(rows);
process.stdout.write(`${output}\n`);
writeFileSync(
  `${ROOT}bench/results/faults${ACCEPT === 'auto' ? '' : `-${ACCEPT}`}.json`,
  `${JSON.stringify({ date: new Date().toISOString(), machine, accept: ACCEPT, seconds: SECONDS, rows, table: output }, null, 2)}\n`,
);
if (stop.signal.aborted) process.exitCode = 130;
