import type { Gauge } from 'prom-client';
import type { ServerStats } from './stats.ts';

// daytime_accept_path_listeners: listeners by path; those that `auto` put on a slower path because a
// faster one could not run here also carry that path and the reason's code.
export function fillAcceptPaths(gauge: Gauge, stats: ServerStats): void {
  for (const [path, n] of Object.entries(stats.acceptPaths)) {
    let plain = n;
    for (const [key, count] of Object.entries(stats.acceptFallbacks ?? {})) {
      const [taken, unavailable, reason] = key.split('/');
      if (taken !== path) continue;
      gauge.set({ path, unavailable, reason }, count);
      plain -= count;
    }
    if (plain > 0) gauge.set({ path }, plain);
  }
}
