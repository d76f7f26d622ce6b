// What a figure was measured on, recorded with every result: the same code costs different amounts on
// different CPUs, microcode and kernel mitigations (with page-table isolation every kernel entry
// switches page tables), so two figures are told apart by this. Linux only.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Machine {
  // One line for tables: vendor, family/model/stepping, the model name, CPUs, hypervisor, kernel.
  label: string;
  vendor: string;
  family: number;
  model: number;
  stepping: number;
  modelName: string;
  microcode?: string;
  cpus: number;
  // The hypervisor flag of the CPU, and what systemd-detect-virt says where it is installed.
  virtualised: boolean;
  virtualisation?: string;
  kernel: string;
  // /sys/devices/system/cpu/vulnerabilities/*: what the kernel does about each CPU flaw.
  mitigations: Record<string, string>;
}

export function describeMachine(): Machine {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1]?.trim();
  const virtualised = /^flags\s*:.*\bhypervisor\b/m.test(info);
  const detect = spawnSync('systemd-detect-virt', { encoding: 'utf8' });
  const virtualisation = detect.error ? undefined : detect.stdout.trim() || undefined;
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const dir = '/sys/devices/system/cpu/vulnerabilities';
  const mitigations: Record<string, string> = {};
  try {
    for (const name of readdirSync(dir).sort())
      mitigations[name] = readFileSync(`${dir}/${name}`, 'utf8').trim();
  } catch {
    // not exposed here
  }
  const machine = {
    vendor: field('vendor_id') ?? 'unknown',
    family: Number(field('cpu family')),
    model: Number(field('model')),
    stepping: Number(field('stepping')),
    modelName: field('model name') ?? 'unknown',
    microcode: field('microcode'),
    cpus: cpus().length,
    virtualised,
    virtualisation,
    kernel,
    mitigations,
  };
  const where = virtualised ? `, virtualised${virtualisation ? ` (${virtualisation})` : ''}` : '';
  const label =
    `${machine.modelName} (${machine.vendor} family ${machine.family} model ${machine.model} stepping ${machine.stepping}), ` +
    `${machine.cpus} CPUs${where}, Linux ${kernel}, meltdown: ${mitigations.meltdown ?? 'unknown'}`;
  return { label, ...machine };
}
