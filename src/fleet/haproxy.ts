import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DaytimeError } from '../errors.ts';
import { eachLine, exited, spawnIn } from './processes.ts';
import type { Topology } from './topology.ts';

export const DEPLOY_CONFIG = fileURLToPath(new URL('../../deploy/haproxy/daytime.cfg', import.meta.url));
const NOBODY = 65534;

// deploy/haproxy/daytime.cfg for this fleet: the file as it is, with its `server host1..3` lines
// repeated once per host. Addresses come from the environment, as they would in production.
export function renderConfig(config: string, hosts: number): string {
  const lines = config.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const server = /^(\s*server )host1 "\$\{DAYTIME_HOST1\}(:\d+)"(.*)$/.exec(line);
    if (server) {
      for (let i = 1; i <= hosts; i++)
        out.push(`${server[1]}host${i} "\${DAYTIME_HOST${i}}${server[2]}"${server[3]}`);
    } else if (!/^\s*server host\d+ /.test(line)) out.push(line);
  }
  return out.join('\n');
}

export interface StatRow {
  pxname: string;
  svname: string;
  qcur: number;
  qmax: number;
  scur: number;
  stot: number;
  status: string;
  [field: string]: string | number;
}

// Debian's HAProxy, unprivileged (nobody), master-worker, in the balancer's namespace.
export class Haproxy {
  readonly dir: string;
  readonly adminSocket: string;
  readonly configPath: string;
  // Log lines by termination state (tcplog: "--" normal, "sQ" queue timeout, "SD" server closed...).
  readonly terminations = new Map<string, number>();
  child: ChildProcess | undefined;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'daytime-fleet-'));
    this.adminSocket = join(this.dir, 'admin.sock');
    this.configPath = join(this.dir, 'daytime.cfg');
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async start(topology: Topology): Promise<void> {
    const config = this.configPath;
    writeFileSync(config, renderConfig(readFileSync(DEPLOY_CONFIG, 'utf8'), topology.hosts.length));
    chownSync(this.dir, NOBODY, NOBODY);
    chmodSync(this.dir, 0o700);
    chownSync(config, NOBODY, NOBODY);
    const env = [
      `DAYTIME_BIND=${topology.lb.frontend}`,
      `DAYTIME_RUN=${this.dir}`,
      ...topology.hosts.map((h, i) => `DAYTIME_HOST${i + 1}=${h.address}`),
    ];
    const child = spawnIn(
      topology.lb.ns,
      'env',
      [
        ...env,
        'setpriv',
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        'haproxy',
        '-W',
        '-db',
        '-f',
        config,
        // HAProxy goes back to its working directory after reading the configuration: as nobody, it could
        // not enter a checkout under a 0700 home directory.
      ],
      this.dir,
    );
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    eachLine(child.stdout, (line) => {
      // tcplog: ... <frontend> <backend>/<server> <Tw>/<Tc>/<Tt> <bytes> <termination_state> ...
      const state = /\s\d+\/-?\d+\/\d+\s+\d+\s+(\S\S)\s/.exec(line)?.[1];
      if (state) this.terminations.set(state, (this.terminations.get(state) ?? 0) + 1);
    });
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      if (
        await this.command('show info').then(
          () => true,
          () => false,
        )
      )
        return;
      await sleep(100);
    }
    throw new DaytimeError('ERR_FLEET', `haproxy did not start: ${stderr.trim()}`);
  }

  // One command on the runtime API (the admin socket); the answer as text.
  command(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.adminSocket);
      let answer = '';
      socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${command}`)));
      socket.on('connect', () => socket.end(`${command}\n`));
      socket.on('data', (chunk) => {
        answer += chunk;
      });
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  async stats(): Promise<StatRow[]> {
    const text = await this.command('show stat');
    const [header = '', ...rows] = text.trim().split('\n');
    const names = header.replace(/^# /, '').split(',');
    return rows.map((row) => {
      const cells = row.split(',');
      const entry: Record<string, string | number> = {};
      names.forEach((name, i) => {
        const value = cells[i] ?? '';
        entry[name] = /^\d+$/.test(value) ? Number(value) : value;
      });
      return entry as StatRow;
    });
  }

  async server(backend: string, server: string): Promise<StatRow | undefined> {
    return (await this.stats()).find((r) => r.pxname === backend && r.svname === server);
  }

  // SIGUSR2 to the master: new workers with the configuration, the old ones finish their connections.
  async reload(): Promise<number> {
    const before = await this.workerPid();
    process.kill(this.pid, 'SIGUSR2');
    for (let i = 0; i < 100; i++) {
      await sleep(50);
      const now = await this.workerPid().catch(() => before);
      if (now !== before) return now;
    }
    throw new DaytimeError('ERR_FLEET', 'haproxy did not reload');
  }

  async workerPid(): Promise<number> {
    return Number(/^Pid: (\d+)$/m.exec(await this.command('show info'))?.[1] ?? 0);
  }

  async stop(): Promise<void> {
    if (this.child) {
      this.child.kill('SIGTERM');
      await exited(this.child);
      this.child = undefined;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const hasHaproxy = () => spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;
