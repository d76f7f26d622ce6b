import type { FleetReport } from './run-fleet.ts';

// The table `daytime fleet` prints on stderr: one row per scenario, its key figures in words.
export function formatFleetReport(report: FleetReport): string {
  const rows: [string, string, string, string][] = [];
  const s = report.scenarios;
  const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : String(x));
  if (s.spread) {
    const per = Object.entries(s.spread.perHost as Record<string, number>).map(([h, c]) => `${h} ${n(c)}`);
    rows.push([
      'spread',
      n(s.spread.connections),
      n(s.spread.errors),
      `${per.join(', ')} (max ${s.spread.maxDeviationPct} % off an even share)`,
    ]);
  }
  if (s['proxy-v2']) {
    rows.push([
      'proxy-v2',
      n(s['proxy-v2'].connections),
      n(s['proxy-v2'].errors),
      `client ${s['proxy-v2'].clientAddress} seen by ${s['proxy-v2'].hostsSeeingClient} of ${report.hosts} hosts; ` +
        `a forged header from the hosts' network ${s['proxy-v2'].forgedAnswered ? 'ANSWERED' : 'refused'}` +
        `${s['proxy-v2'].forgedLoggedAs ? ', logged as the forged address' : ''}`,
    ]);
  }
  if (s['rolling-restart']) {
    const steps = s['rolling-restart'].steps as { host: string; outOfRotationMs: number }[];
    rows.push([
      'rolling-restart',
      n(s['rolling-restart'].connections),
      n(s['rolling-restart'].errors),
      steps.map((x) => `${x.host} out ${(x.outOfRotationMs / 1000).toFixed(1)} s`).join(', '),
    ]);
  }
  if (s['kill-host']) {
    const k = s['kill-host'];
    rows.push([
      'kill-host',
      n(k.connections),
      n(k.errors),
      `${k.inFlightAtKill} in flight at the kill (${k.heldBeforeKill} held, ${k.sentWhileDying} sent while it died); DOWN after ${k.markedDownMs} ms (fall x inter ${k.checkBudgetMs} ms); ${k.errorsAfterDown} errors after`,
    ]);
  }
  if (s.reload)
    rows.push([
      'reload',
      n(s.reload.connections),
      n(s.reload.errors),
      `${s.reload.reloads} reloads (SIGUSR2 to the master)`,
    ]);
  if (s.queueing) {
    for (const key of ['withoutMaxconn', 'withMaxconn'] as const) {
      const q = s.queueing[key] as Record<string, unknown>;
      rows.push([
        `queueing ${q.serverMaxconn ? `maxconn ${q.serverMaxconn}` : 'no maxconn'}`,
        n(q.connections),
        n(q.errors),
        `host queue max ${q.hostQueueMax}, ListenOverflows +${q.listenOverflows}; HAProxy queue max ${q.haproxyQueueMax}, ${q.queueTimeouts} queue timeouts; DOWN after ${q.markedDownMs ?? '-'} ms`,
      ]);
    }
  }
  const widths = [0, 1, 2].map((i) =>
    Math.max(...rows.map((r) => (r[i] ?? '').length), ['scenario', 'connections', 'errors'][i]?.length ?? 0),
  );
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ');
  return `${[line(['scenario', 'connections', 'errors', 'figures']), ...rows.map(line)].join('\n')}\n${report.hosts} hosts behind ${report.haproxy}, ${(report.durationMs / 1000).toFixed(1)} s\n`;
}
