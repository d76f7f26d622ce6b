// Soak: 1,000,000 connections through one `daytime serve`, in slices of 100,000, sampling its RSS and
// open descriptors after each slice. Passes when RSS grows at most 10 % after the warm-up and the descriptors return to the
// baseline. Load from the C load generator in ../shared/perf (dtload).
//   node bench/soak.ts [--connections 1000000] [--warmup 100000] [--accept auto|uring|libc|handle|socket] [--json FILE]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPerf, freePort, dtload as runDtload } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { ENV } from './lib/peers.ts';
import { openFds as fds, rssMiB } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000000' },
    warmup: { type: 'string', default: '100000' },
    accept: { type: 'string', default: 'auto' },
    json: { type: 'string' },
  },
});
const total = Number(values.connections);
const warmup = Number(values.warmup);
const dtload = (port: number, count: number) =>
  runDtload(port, ['-c', '64', '-t', '2', '-n', String(count), '-T', '10000']);

buildPerf();
const port = await freePort();
const server = spawn(
  fileURLToPath(new URL('../dist/cli.js', import.meta.url)),
  [
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--quiet',
    '--log-format',
    'json',
    '--accept',
    values.accept ?? 'auto',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: ENV },
);
let acceptPath = '';
server.stdout?.on('data', (chunk: Buffer) => {
  acceptPath ||= /"acceptPath":"(\w+)"/.exec(String(chunk))?.[1] ?? '';
});
const pid = server.pid ?? 0;
try {
  await sleep(1500);
  const baselineFds = fds(pid);
  const samples: { connections: number; rssMiB: number; fds: number }[] = [];
  const warm = dtload(port, warmup);
  await sleep(1000);
  const rssAfterWarmup = rssMiB(pid);
  const soakStarted = Date.now();
  let ok = 0;
  let errors = 0;
  const slice = 100_000;
  const rssDuring: number[] = [];
  for (let done = 0; done < total; done += slice) {
    const r = dtload(port, Math.min(slice, total - done));
    ok += r.ok ?? 0;
    errors += r.errors ?? 0;
    rssDuring.push(rssMiB(pid));
    samples.push({
      connections: Math.min(done + slice, total),
      rssMiB: rssDuring.at(-1) ?? 0,
      fds: fds(pid),
    });
    process.stderr.write(
      `${done + slice} connections, RSS ${rssDuring.at(-1)?.toFixed(1)} MiB, fds ${fds(pid)}\n`,
    );
  }
  const seconds = (Date.now() - soakStarted) / 1000;
  await sleep(2000);
  const finalFds = fds(pid);
  const peakRss = Math.max(...rssDuring);
  const growth = (peakRss - rssAfterWarmup) / rssAfterWarmup;
  const result = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    acceptPath,
    connections: total,
    ok,
    errors,
    seconds: Math.round(seconds * 10) / 10,
    warmupOk: warm.ok,
    rssAfterWarmupMiB: Math.round(rssAfterWarmup * 10) / 10,
    peakRssMiB: Math.round(peakRss * 10) / 10,
    rssGrowthPct: Math.round(growth * 1000) / 10,
    baselineFds,
    finalFds,
    pass: growth <= 0.1 && finalFds <= baselineFds && errors === 0,
    samples,
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `${acceptPath} accept path: ${total} connections in ${result.seconds} s: ok ${ok}, errors ${errors}; RSS ${result.rssAfterWarmupMiB} MiB after warm-up, ` +
      `peak ${result.peakRssMiB} MiB (${result.rssGrowthPct} %); descriptors ${baselineFds} -> ${finalFds}: ${result.pass ? 'PASS' : 'FAIL'}\n`,
  );
  process.exitCode = result.pass ? 0 : 1;
} finally {
  server.kill('SIGTERM');
}
