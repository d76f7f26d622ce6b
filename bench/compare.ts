// Compares daytime serve with the C reference server (dtref -w 1), a naive Node server and the classic
// Python server (listen(5)), in alternating rounds under the C load generator (dtload); then daytime
// bench --workers 2 against dtload -t 2 on dtref. See bench/README.md for what each figure means.
//   node bench/compare.ts [--rounds 6] [--seconds 5] [--json FILE]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PERF = fileURLToPath(new URL('../../shared/perf/', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const BIN = `${ROOT}dist/cli.js`;
// The bin's shebang (`env -S node ...`) finds the pinned Node 24 here.
const ENV = { ...process.env, PATH: `${ROOT}node_modules/.bin:${process.env.PATH}` };
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

interface Candidate {
  name: string;
  command: (port: number) => [string, string[]];
}
const candidates: Candidate[] = [
  {
    name: 'dtref -w 1',
    command: (p) => [`${PERF}dtref`, ['-a', '127.0.0.1', '-p', String(p), '-b', '511', '-w', '1']],
  },
  {
    name: 'daytime serve',
    // The bin itself, as `daytime serve` runs: its shebang picks the Node flags.
    command: (p) => [
      BIN,
      ['serve', '--host', '127.0.0.1', '--port', String(p), '--quiet', '--log-format', 'json'],
    ],
  },
  { name: 'naive net.createServer', command: (p) => [NODE, [`${ROOT}bench/servers/naive.ts`, String(p)]] },
  {
    name: 'classic Python listen(5)',
    command: (p) => [`python3`, [`${ROOT}bench/servers/classic.py`, String(p)]],
  },
];

const cpuMicros = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime + stime
};
const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const parseKv = (line: string) =>
  Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => probe.once('listening', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}
async function waitListening(port: number) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${port}`);
}
const dtload = (port: number, extra: string[] = []) =>
  parseKv(
    execFileSync(
      `${PERF}dtload`,
      ['-h', '127.0.0.1', '-p', String(port), '-c', '64', '-d', String(seconds), '-q', ...extra],
      { encoding: 'utf8' },
    ),
  );

execFileSync('make', ['-s', '-C', PERF], { stdio: 'inherit' });
const running: { candidate: Candidate; port: number; child: ChildProcess }[] = [];
try {
  for (const candidate of candidates) {
    const port = await freePort();
    const [cmd, args] = candidate.command(port);
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: ENV,
    });
    running.push({ candidate, port, child });
    await waitListening(port);
  }
  const samples = new Map<
    string,
    { cpuPerConn: number[]; rate: number[]; p99: number[]; errors: number[] }
  >();
  for (let round = 1; round <= rounds; round++) {
    for (const { candidate, port, child } of running) {
      const pid = child.pid ?? 0;
      const before = cpuMicros(pid);
      const r = dtload(port, ['-t', '2']);
      const cpu = cpuMicros(pid) - before;
      const s = samples.get(candidate.name) ?? { cpuPerConn: [], rate: [], p99: [], errors: [] };
      s.cpuPerConn.push(cpu / Math.max(1, r.all ?? 1));
      s.rate.push(r.rate ?? 0);
      s.p99.push((r.p99_us ?? 0) / 1000);
      s.errors.push(r.errors ?? 0);
      samples.set(candidate.name, s);
      process.stderr.write(
        `round ${round}/${rounds} ${candidate.name}: ${(cpu / (r.all ?? 1)).toFixed(1)} µs/conn, ${r.rate} conn/s, ${r.errors} errors\n`,
      );
    }
  }
  const ref = median(samples.get('dtref -w 1')?.cpuPerConn ?? [1]);
  const servers = running.map(({ candidate, child }) => {
    const s = samples.get(candidate.name);
    const cpu = median(s?.cpuPerConn ?? []);
    return {
      server: candidate.name,
      cpuUsPerConn: Math.round(cpu * 10) / 10,
      vsDtref: Math.round((cpu / ref) * 100) / 100,
      connPerSec: Math.round(median(s?.rate ?? [])),
      p99Ms: Math.round(median(s?.p99 ?? []) * 1000) / 1000,
      errors: (s?.errors ?? []).reduce((a, b) => a + b, 0),
      peakRssMiB: Math.round(peakRssMiB(child.pid ?? 0) * 10) / 10,
    };
  });

  // The client side: daytime bench --workers 2 against dtload -t 2, both on dtref.
  const dtref = running[0];
  const benchRates: number[] = [];
  const loadRates: number[] = [];
  for (let round = 1; round <= Math.max(2, Math.ceil(rounds / 2)); round++) {
    const out = execFileSync(
      BIN,
      ['bench', `127.0.0.1:${dtref?.port}`, '--workers', '2', '-c', '64', '-d', String(seconds), '--json'],
      { encoding: 'utf8', env: ENV },
    );
    benchRates.push(JSON.parse(out).connPerSec);
    loadRates.push(dtload(dtref?.port ?? 0, ['-t', '2']).rate ?? 0);
    process.stderr.write(
      `bench round ${round}: daytime bench ${benchRates.at(-1)} conn/s, dtload ${loadRates.at(-1)} conn/s\n`,
    );
  }
  const clients = {
    daytimeBench: Math.round(median(benchRates)),
    dtload: Math.round(median(loadRates)),
    ratio: Math.round((median(benchRates) / median(loadRates)) * 100) / 100,
  };
  const result = {
    date: new Date().toISOString(),
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(),
    // The Node flags daytime serve and daytime bench ran with.
    shebang: readFileSync(BIN, 'utf8').split('\n')[0],
    rounds,
    seconds,
    servers,
    clients,
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  const lines = [
    '| server | CPU µs/conn (median) | vs dtref | conn/s (median) | p99 ms (median) | errors (all rounds) | peak RSS MiB |',
    '|---|---|---|---|---|---|---|',
    ...servers.map(
      (s) =>
        `| ${s.server} | ${s.cpuUsPerConn} | ${s.vsDtref}x | ${s.connPerSec} | ${s.p99Ms} | ${s.errors} | ${s.peakRssMiB} |`,
    ),
    '',
    `daytime bench --workers 2: ${clients.daytimeBench} conn/s; dtload -t 2: ${clients.dtload} conn/s; ratio ${clients.ratio}x (medians, against dtref -w 1)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  for (const { child } of running) child.kill('SIGTERM');
}
