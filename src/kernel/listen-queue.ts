import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ListenQueue {
  local: string;
  port: number;
  // Connections completed by the kernel and waiting for accept() (ss Recv-Q).
  queued: number;
  // The effective backlog (ss Send-Q), after the somaxconn clamp.
  backlog: number;
  // The socket's inode (with `ss -e`), to tell apart SO_REUSEPORT listeners on one port.
  inode?: number;
}

// Parses `ss -Hltn` output. For a LISTEN socket Recv-Q is the accept-queue length and Send-Q the backlog
// (net/ipv4/tcp_diag.c); /proc/net/tcp shows the queue but not the backlog, hence ss.
export function parseSsListen(output: string): ListenQueue[] {
  const rows: ListenQueue[] = [];
  for (const line of output.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // State Recv-Q Send-Q Local:Port Peer:Port [Process]
    if (cols.length < 5 || cols[0] !== 'LISTEN') continue;
    const local = cols[3] ?? '';
    const colon = local.lastIndexOf(':');
    rows.push({
      local,
      port: Number(local.slice(colon + 1)),
      queued: Number(cols[1]),
      backlog: Number(cols[2]),
      inode: Number(/\bino:(\d+)/.exec(line)?.[1]) || undefined,
    });
  }
  return rows;
}

// The kernel's own view of the TCP listeners on `port`; undefined when `ss` is not installed.
export async function readListenQueues(port: number): Promise<ListenQueue[] | undefined> {
  try {
    const { stdout } = await execFileAsync('ss', ['-Hltne', `sport = :${port}`]);
    return parseSsListen(stdout);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
