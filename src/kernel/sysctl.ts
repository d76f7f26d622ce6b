import { readFileSync, writeFileSync } from 'node:fs';

// Sysctls of this network namespace by their dotted names ("net.core.somaxconn"), through /proc/sys.

const path = (name: string) => `/proc/sys/${name.replaceAll('.', '/')}`;

// A numeric sysctl; undefined where /proc/sys is absent (not Linux, a sandbox), the kernel has no such
// setting, or it is not a number.
export function readSysctl(name: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(path(name), 'utf8'), 10);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

// Sets one; only inside a network namespace of our own (the host's settings are not ours to change).
export function writeSysctl(name: string, value: number | string): void {
  writeFileSync(path(name), String(value));
}
