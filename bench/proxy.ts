// What --proxy-protocol costs the server per connection: HAProxy on loopback relays dtload's
// connections to two `daytime serve` processes, one plain (the libc accept path) and one with
// --proxy-protocol (HAProxy's send-proxy-v2), in alternating rounds; CPU per connection of each server.
//   node bench/proxy.ts [--rounds 6] [--seconds 5] [--json FILE]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPerf, dtload, freePort, waitListening } from './lib/dtload.ts';
import { describeMachine } from './lib/machine.ts';
import { ENV } from './lib/peers.ts';
import { cpuSample, median } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
buildPerf();
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'daytime-proxy-bench-'));
try {
  const serve = async (extra: string[]) => {
    const port = await freePort();
    const child = spawn(
      BIN,
      ['serve', '--host', '127.0.0.1', '--port', String(port), '--quiet', '--log-format', 'json', ...extra],
      {
        stdio: 'ignore',
        env: ENV,
      },
    );
    children.push(child);
    return { port, pid: child.pid ?? 0 };
  };
  const plain = await serve([]);
  const proxied = await serve(['--proxy-protocol']);
  const [front1, front2] = [await freePort(), await freePort()];
  const config = join(dir, 'bench.cfg');
  writeFileSync(
    config,
    `global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n` +
      `listen plain\n  bind 127.0.0.1:${front1}\n  server s 127.0.0.1:${plain.port}\n` +
      `listen proxied\n  bind 127.0.0.1:${front2}\n  server s 127.0.0.1:${proxied.port} send-proxy-v2\n`,
  );
  children.push(spawn('haproxy', ['-db', '-f', config], { stdio: 'ignore' }));
  await waitListening(front1);
  await waitListening(front2);
  const runs = [
    { name: 'daytime serve (libc), behind HAProxy', front: front1, pid: plain.pid, cpu: [] as number[] },
    {
      name: 'daytime serve --proxy-protocol, behind HAProxy send-proxy-v2',
      front: front2,
      pid: proxied.pid,
      cpu: [] as number[],
    },
  ];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const run of runs) {
      const before = cpuSample(run.pid);
      const r = dtload(run.front, ['-c', '64', '-d', String(values.seconds), '-t', '2']);
      const after = cpuSample(run.pid);
      run.cpu.push((after.userUs + after.sysUs - before.userUs - before.sysUs) / Math.max(1, r.all ?? 1));
      process.stderr.write(
        `round ${round} ${run.name}: ${run.cpu.at(-1)?.toFixed(1)} µs/conn, ${r.errors} errors\n`,
      );
    }
  }
  const result = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    servers: runs.map((r) => ({
      server: r.name,
      cpuUsPerConn: Math.round(median(r.cpu) * 100) / 100,
      rounds: r.cpu.map((x) => Math.round(x * 100) / 100),
    })),
  };
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  for (const s of result.servers) process.stdout.write(`${s.server}: ${s.cpuUsPerConn} µs/conn (median)\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
