import { once } from 'node:events';
import type { ServerLogger } from '../observability/logger.ts';
import { LoopDelay } from '../observability/loop-delay.ts';
import { DaytimeServer } from '../server/daytime-server.ts';
import { dropPrivileges } from './privileges.ts';
import type { FromWorker, ToWorker, WorkerAssignment } from './worker-pool.ts';

// How often a worker sends its counters without being asked, so that little is lost if it is killed.
const PUSH_MS = 1000;

const send = (message: FromWorker) =>
  new Promise<void>((resolve) => {
    if (!process.connected || !process.send) return resolve();
    // The callback takes the error of a channel that has just gone: nothing to do about it.
    process.send(message, undefined, {}, () => resolve());
  });

// One worker of `serve --workers`: serves the sockets its primary bound, with the config the primary
// normalized, and answers its requests for counters. When the primary is gone (even by SIGKILL) it
// drains and exits 0.
export async function runWorker(
  assignment: WorkerAssignment,
  runtime: { logger?: ServerLogger; logConnections?: boolean; signal: AbortSignal },
): Promise<void> {
  const server = new DaytimeServer(assignment.config, {
    logger: runtime.logger,
    logConnections: runtime.logConnections,
    logLifecycle: false,
  });
  try {
    // Already so when the primary dropped before starting it; checked, so that none serves as root.
    if (assignment.identity) dropPrivileges(assignment.identity);
    await server.listen();
  } catch (error) {
    await send({ type: 'failed', message: (error as Error).message });
    throw error;
  }
  const loopDelay = assignment.loopDelay ? new LoopDelay() : undefined;
  const counters = (request: number): FromWorker => ({
    type: 'stats',
    request,
    stats: server.stats(),
    loopDelayMs: loopDelay?.maxMs(),
  });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stats') void send(counters(message.request));
  });
  const push = setInterval(() => void send(counters(0)), PUSH_MS);
  push.unref();
  const { acceptPaths, udpPaths } = server.stats();
  const acceptFallback = server.listeners().find((l) => l.acceptFallback)?.acceptFallback;
  await send({ type: 'ready', acceptPaths, udpPaths, acceptFallback });
  const orphaned = once(process, 'disconnect').then(() => {
    if (!runtime.signal.aborted)
      runtime.logger?.info(
        { worker: assignment.id },
        `worker ${assignment.id}: the primary is gone; draining`,
      );
  });
  if (!runtime.signal.aborted) await Promise.race([once(runtime.signal, 'abort'), orphaned]);
  await server.close();
  clearInterval(push);
  loopDelay?.stop();
  // The last counters, so that the primary's totals include every connection this worker served.
  await send(counters(0));
  if (process.connected) process.disconnect();
}
