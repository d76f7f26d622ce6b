import { readFileSync } from 'node:fs';

// A numeric sysctl of this network namespace ("net.core.somaxconn"); undefined where /proc/sys is
// absent (not Linux, a sandbox) or the kernel has no such setting.
export function readSysctl(name: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8'), 10);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
