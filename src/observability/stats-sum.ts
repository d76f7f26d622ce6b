import { emptyStats, type ServerStats } from './stats.ts';

const addInto = (into: Record<string, number>, from: Record<string, number | undefined>) => {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + (n ?? 0);
};

// The counters of several worker processes as one.
export function sumStats(all: ServerStats[]): ServerStats {
  const total = emptyStats();
  for (const s of all) {
    total.connections += s.connections;
    total.served += s.served;
    total.rejected += s.rejected;
    total.udpReceived += s.udpReceived;
    addInto(total.servedBy, s.servedBy);
    addInto(total.errors, s.errors);
    addInto(total.acceptPaths, s.acceptPaths ?? {});
    addInto(total.acceptFallbacks, s.acceptFallbacks ?? {});
    addInto(total.udpPaths, s.udpPaths ?? {});
    addInto(total.proxyHeaders, s.proxyHeaders ?? {});
    addInto(total.proxyRefused, s.proxyRefused ?? {});
    addInto(total.udpDropped as Record<string, number>, s.udpDropped);
  }
  return total;
}

// A worker that has exited: its counters join the retired ones. Its listeners (acceptPaths) are not
// counters and went with it.
export function retire(retired: ServerStats, last: ServerStats): ServerStats {
  const total = sumStats([retired, last]);
  total.acceptPaths = {};
  total.udpPaths = {};
  return total;
}
