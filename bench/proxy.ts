// What --proxy-protocol costs the server per connection: `serve` plain fed by plain dtload, against
// `serve --proxy-protocol --proxy-from 127.0.0.1` fed by `dtload -x v2` and `-x v1` (dtload sends the
// header at once after connecting, as HAProxy's send-proxy does), in alternating rounds; CPU per
// connection of each server (the scheduler's clock) with the machine-wide cross-check beside it, and
// system calls per connection under load (perf's raw_syscalls).
// Each path in --accept in turn (uring: the PROXY header received in the ring's chain; libc: one read;
// socket), the first path's plain server the reference for `vs plain`. A path that cannot run here is
// skipped with the reason.
//   node bench/proxy.ts [--rounds 6] [--seconds 4] [--accept uring,libc] [--json FILE]
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { uringSupport } from '../src/kernel/uring-support.ts';
import { buildPerf, dtload, freePort, waitListening } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { cpuNotes, measure } from './lib/measure.ts';
import { ENV } from './lib/peers.ts';
import { median } from './lib/proc.ts';
import { countSyscallsPerf, hasPerfTracepoints } from './lib/strace.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '4' },
    accept: { type: 'string', default: 'uring,libc' },
    json: { type: 'string' },
  },
});
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
buildPerf();
const children: ChildProcess[] = [];

async function serve(extra: string[], header: string[] = []) {
  const port = await freePort();
  const child = spawn(
    BIN,
    ['serve', '--host', '127.0.0.1', '--port', String(port), '--quiet', '--log-format', 'json', ...extra],
    { stdio: 'ignore', env: ENV },
  );
  children.push(child);
  await waitListening(port, undefined, header);
  return { port, pid: child.pid ?? 0 };
}

interface Run {
  name: string;
  port: number;
  pid: number;
  // dtload's PROXY option, if any.
  header: string[];
  cpu: number[];
  // Machine busy time less the load generator's, per connection (rough).
  busyLessLoad: number[];
  threadsLost: number;
  errors: number;
  syscalls?: number;
}
const tally = () => ({ cpu: [] as number[], busyLessLoad: [] as number[], threadsLost: 0, errors: 0 });

try {
  const uring = await uringSupport();
  const unavailable = (path: string) =>
    path !== 'uring'
      ? undefined
      : !uring.ok
        ? uring.reason
        : uring.chains === true
          ? undefined
          : uring.chains.reason;
  const runs: Run[] = [];
  for (const path of String(values.accept).split(',').filter(Boolean)) {
    const why = unavailable(path);
    if (why) {
      process.stderr.write(`proxy: ${path} skipped: ${why}\n`);
      continue;
    }
    const plain = await serve(['--accept', path]);
    const proxied = await serve(
      ['--accept', path, '--proxy-protocol', '--proxy-from', '127.0.0.1'],
      ['-x', 'v2'],
    );
    runs.push(
      { name: `serve --accept ${path}, plain dtload`, ...plain, header: [], ...tally() },
      {
        name: `serve --proxy-protocol (${path}), dtload -x v2`,
        ...proxied,
        header: ['-x', 'v2'],
        ...tally(),
      },
      {
        name: `serve --proxy-protocol (${path}), dtload -x v1`,
        ...proxied,
        header: ['-x', 'v1'],
        ...tally(),
      },
    );
  }
  const load = (run: Run, extra: string[]) =>
    dtload(run.port, ['-c', '64', '-t', '2', ...run.header, ...extra]);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const run of runs) {
      const m = await measure(run.pid, () => load(run, ['-d', String(values.seconds)]));
      const n = Math.max(1, m.value.all ?? 1);
      run.cpu.push(m.cpuUs / n);
      run.busyLessLoad.push(m.busyLessLoadUs / n);
      run.threadsLost += m.threadsLost;
      run.errors += m.value.errors ?? 0;
      process.stderr.write(
        `round ${round} ${run.name}: ${run.cpu.at(-1)?.toFixed(2)} µs/conn ` +
          `(machine busy − load gen ${run.busyLessLoad.at(-1)?.toFixed(2)}), ${m.value.errors} errors\n`,
      );
    }
  }
  if (hasPerfTracepoints())
    for (const run of runs) run.syscalls = await countSyscallsPerf(run.pid, () => load(run, ['-n', '20000']));
  const base = median(runs[0]?.cpu ?? []);
  const result = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    rounds: Number(values.rounds),
    seconds: Number(values.seconds),
    servers: runs.map((r) => ({
      server: r.name,
      cpuUsPerConn: Math.round(median(r.cpu) * 100) / 100,
      machineBusyLessLoadGenUsPerConn: Math.round(median(r.busyLessLoad) * 100) / 100,
      vsPlain: Math.round((median(r.cpu) / base) * 100) / 100,
      syscallsPerConnUnderLoad: r.syscalls ?? null,
      errors: r.errors,
      threadsLost: r.threadsLost,
      rounds: r.cpu.map((x) => Math.round(x * 100) / 100),
    })),
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `| server | CPU µs/conn (median) | machine busy − load gen, µs/conn | vs plain | syscalls/conn (perf, at load) | errors |\n|---|---:|---:|---:|---:|---:|\n`,
  );
  for (const s of result.servers)
    process.stdout.write(
      `| ${s.server} | ${s.cpuUsPerConn} | ${s.machineBusyLessLoadGenUsPerConn} | ${s.vsPlain}x | ${s.syscallsPerConnUnderLoad ?? 'n/a'} | ${s.errors} |\n`,
    );
  const notes = cpuNotes(
    'connection',
    result.servers.map((r) => ({ name: r.server, ...r })),
  );
  process.stdout.write(`${notes.join('\n')}\n`);
  process.stdout.write(`${result.machine.label}\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
}
