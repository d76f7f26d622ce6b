import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { readSysctl } from '../kernel/sysctl.ts';

export const LAB_SYSCTLS = [
  'net/core/somaxconn',
  'net/ipv4/tcp_max_syn_backlog',
  'net/ipv4/tcp_syncookies',
  'net/ipv4/tcp_abort_on_overflow',
  'net/ipv4/tcp_syn_retries',
  'net/ipv4/tcp_synack_retries',
  'net/ipv4/tcp_syn_linear_timeouts',
  'net/ipv4/tcp_migrate_req',
];

export interface LabEnvironment {
  kernel: string;
  platform: string;
  node: string;
  // Each sysctl as read from /proc/sys (dotted name), or null where it does not exist.
  sysctls: Record<string, number | null>;
  hasProc: boolean;
  hasSs: boolean;
}

// The lab's sysctls as this network namespace has them (dotted names), null where absent.
export function readLabSysctls(paths: readonly string[] = LAB_SYSCTLS): Record<string, number | null> {
  return Object.fromEntries(
    paths.map((path) => {
      const name = path.replaceAll('/', '.');
      return [name, readSysctl(name) ?? null];
    }),
  );
}

export function readEnvironment(): LabEnvironment {
  const sysctls = readLabSysctls();
  const hasProc = sysctls['net.core.somaxconn'] !== null;
  let hasSs = true;
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
  } catch {
    hasSs = false;
  }
  return { kernel: release(), platform: process.platform, node: process.version, sysctls, hasProc, hasSs };
}
