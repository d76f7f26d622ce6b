import type { FleetProgress } from '../fleet/run-fleet.ts';
import type { LabProgress } from '../lab/types.ts';

const seconds = (list: readonly number[]) =>
  `${list.slice(0, -1).join(', ')}${list.length > 1 ? ' and ' : ''}${list.at(-1) ?? ''} s`;

// One line of `daytime lab` progress (stderr).
export function formatLabProgress(event: LabProgress): string {
  if (event.type === 'experiment') return `lab: ${event.id}: ${event.title}`;
  if (event.step === 'drains')
    return `lab: ${event.id}: full queues, drained after ${seconds(event.drainAfterS)}`;
  if (event.clients === undefined) return `lab: ${event.id}: backlog ${event.backlog}`;
  const pace = event.acceptEveryMs === undefined ? '' : `, one accept every ${event.acceptEveryMs} ms`;
  return `lab: ${event.id}: ${event.clients} clients against listen(${event.backlog})${pace}`;
}

// One line of `daytime fleet` progress (stderr).
export function formatFleetProgress(event: FleetProgress): string {
  switch (event.type) {
    case 'building':
      return `creating ${event.namespaces} network namespaces (${event.prefix}-*)`;
    case 'scenario':
      return `scenario ${event.name}`;
    case 'restart':
      return `rolling restart: ${event.host}`;
    case 'stopped':
      return `queueing: ${event.host} stopped, server maxconn ${event.maxconn || 'none'}`;
    case 'teardown':
      return 'tearing down';
  }
}
