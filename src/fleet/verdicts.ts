import type { FleetReport } from './run-fleet.ts';

// What each scenario must show (issue 11): the sentences of the figures that were not met.
export function fleetVerdicts(report: FleetReport): string[] {
  const s = report.scenarios;
  const out: string[] = [];
  if (s.spread) {
    if (s.spread.connections < 30_000)
      out.push(`spread: ${s.spread.connections} connections, fewer than 30,000`);
    if (s.spread.errors !== 0) out.push(`spread: ${s.spread.errors} errors`);
    if ((s.spread.maxDeviationPct as number) > 20)
      out.push(`spread: a host ${s.spread.maxDeviationPct} % off its share`);
  }
  if (s['proxy-v2'] && s['proxy-v2'].clientAddressSeen !== true)
    out.push('proxy-v2: a host never logged the client address');
  if (s['proxy-v2']?.forgedAnswered)
    out.push("proxy-v2: a forged header from the hosts' network was answered");
  if (s['proxy-v2'] && s['proxy-v2'].forgedLoggedAs !== 0)
    out.push('proxy-v2: a host logged a connection as the address a forged header claimed');
  if (s['proxy-v2'] && s['proxy-v2'].forgedRefusal === undefined)
    out.push('proxy-v2: the host did not log the forged header as refused (not in --proxy-from)');
  if (s['rolling-restart'] && s['rolling-restart'].errors !== 0)
    out.push(`rolling-restart: ${s['rolling-restart'].errors} failed connections`);
  if (s['kill-host']) {
    const k = s['kill-host'];
    if (k.errors > (k.inFlightAtKill as number))
      out.push(`kill-host: ${k.errors} errors, more than the ${k.inFlightAtKill} in flight`);
    if ((k.markedDownMs as number) > (k.checkBudgetMs as number) + 1000)
      out.push(
        `kill-host: marked DOWN after ${k.markedDownMs} ms (fall x inter ${k.checkBudgetMs} ms, plus a check timeout)`,
      );
    if (k.errorsAfterDown !== 0) out.push(`kill-host: ${k.errorsAfterDown} errors after the host was DOWN`);
  }
  if (s.reload && s.reload.errors !== 0) out.push(`reload: ${s.reload.errors} failed connections`);
  if (s.queueing) {
    const q = s.queueing as unknown as Record<'withoutMaxconn' | 'withMaxconn', Record<string, number>>;
    if (!((q.withoutMaxconn.hostQueueMax ?? 0) > 0))
      out.push("queueing: without maxconn nothing waited in the stopped host's queue");
    if (!((q.withMaxconn.haproxyQueueMax ?? 0) > 0)) out.push('queueing: with maxconn HAProxy never queued');
  }
  return out;
}
