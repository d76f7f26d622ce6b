import { readFileSync } from 'node:fs';

// /proc/net/netstat and /proc/net/snmp come as pairs of lines: "TcpExt: Name1 Name2 ..." then
// "TcpExt: 1 2 ...". Keys are named as nstat names them: TcpExtListenOverflows, UdpRcvbufErrors.
export function parseNetstat(text: string): Record<string, number> {
  const counters: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] ?? '').trim().split(/\s+/);
    const values = (lines[i + 1] ?? '').trim().split(/\s+/);
    const prefix = names[0]?.replace(/:$/, '') ?? '';
    if (prefix !== values[0]?.replace(/:$/, '')) continue;
    for (let j = 1; j < names.length; j++) counters[`${prefix}${names[j]}`] = Number(values[j]);
  }
  return counters;
}

// The kernel's counters for this network namespace (all sockets in it, not one); undefined without /proc.
export function readKernelCounters(): Record<string, number> | undefined {
  try {
    return {
      ...parseNetstat(readFileSync('/proc/net/snmp', 'utf8')),
      ...parseNetstat(readFileSync('/proc/net/netstat', 'utf8')),
    };
  } catch {
    return undefined;
  }
}

// How much a counter rose between two readings; undefined when either reading lacks it.
export function counterDelta(
  before: Record<string, number> | undefined,
  after: Record<string, number> | undefined,
  key: string,
): number | undefined {
  const a = before?.[key];
  const b = after?.[key];
  return a === undefined || b === undefined ? undefined : b - a;
}
