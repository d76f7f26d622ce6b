import { DaytimeError } from '../errors.ts';
import { loadSocketCalls, type SocketCalls } from '../kernel/socket-calls.ts';
import { loadMetrics } from '../observability/load-metrics.ts';
import type { ServerLogger } from '../observability/logger.ts';
import type { ServeConfig } from '../server/options.ts';
import { preloadProxyUring } from '../tcp/accept/uring-choice.ts';
import { bindHeld } from './held-socket.ts';
import { cannotSwitch, dropPrivileges, unreachableBy } from './privileges.ts';
import { WorkerSockets } from './worker-sockets.ts';

// The libc calls that keep a bound socket (dup, listen, shutdown), for --workers and --user.
export function socketCallsFor(feature: string): Promise<SocketCalls> {
  return loadSocketCalls().catch((error: Error) => {
    throw new DaytimeError(
      'ERR_UNSUPPORTED',
      `${feature} needs Linux with libc through koffi: ${error.message}`,
    );
  });
}

// Said once at start by a server that runs as root and was not told to stop being root (--user root,
// or any account with uid 0, is not stopping).
export function warnIfRoot(logger: ServerLogger | undefined, config: ServeConfig): void {
  if (process.geteuid?.() !== 0 || (config.identity && config.identity.user.id !== 0)) return;
  // Under socket activation systemd bound the sockets already: the unit is what should not be root.
  const ways = config.listenFds
    ? 'or give the unit User= or DynamicUser=yes (systemd bound the sockets already: deploy/daytime.service)'
    : 'or let systemd bind them (socket activation), or give node CAP_NET_BIND_SERVICE';
  logger?.warn(
    { root: true },
    `running as root: with --user NAME the server binds its sockets and then runs as NAME; ${ways}`,
  );
}

// Before any socket: --user that this process cannot carry out is a failure now, not after the bind.
// With --workers, each worker is started once the primary runs as the user: the user must be able to
// run Node and read the CLI (a clone under a 0700 /root it cannot; a global install it can).
export function checkIdentity(config: ServeConfig, workerScript: string | undefined): void {
  const identity = config.identity;
  if (!identity) return;
  const why = cannotSwitch(identity);
  if (why) throw new DaytimeError('ERR_PRIVILEGES', why);
  if (config.workers < 2 || !workerScript) return;
  const name = identity.user.name;
  for (const [file, execute] of [
    [process.execPath, true],
    [workerScript, false],
  ] as const) {
    const blocked = unreachableBy(identity, file, execute);
    if (blocked)
      throw new DaytimeError(
        'ERR_PRIVILEGES',
        `--workers with --user ${name}: the workers run ${file} as ${name}, who cannot reach ${blocked}; ` +
          `install daytime and Node where ${name} can read them (npm install -g puts them there)`,
      );
  }
}

// --user, once the service's sockets are bound: the metrics endpoint's too (it may be below 1024 as
// well), then the switch, which is logged. Returns the metrics socket; on failure closes every socket.
export async function dropOnceBound(
  calls: SocketCalls,
  config: ServeConfig,
  logger: ServerLogger | undefined,
  sockets: WorkerSockets | undefined,
): Promise<number | undefined> {
  const identity = config.identity;
  if (!identity) return undefined;
  let metricsFd: number | undefined;
  try {
    if (config.metrics) {
      const { host, port } = config.metrics;
      metricsFd = (await bindHeld(calls, { host: host || undefined, port, reusePort: false })).fd;
    }
    dropPrivileges(identity);
  } catch (error) {
    sockets?.close();
    if (metricsFd !== undefined) calls.close(metricsFd);
    throw error;
  }
  const { user, group } = identity;
  logger?.info(
    { user: user.name, uid: user.id, group: group.name, gid: group.id },
    `every socket bound; now running as user ${user.name} (uid ${user.id}), group ${group.name} ` +
      `(gid ${group.id}), no supplementary groups`,
  );
  return metricsFd;
}

// --user without --workers: every socket of the server and the metrics endpoint bound, then the switch,
// and only then anything served: the server gets the sockets as descriptors, so nothing has been
// accepted or read while the process was still root.
export async function bindThenDrop(
  config: ServeConfig,
  logger: ServerLogger | undefined,
): Promise<{ config: ServeConfig; metricsFd: number | undefined }> {
  const calls = await socketCallsFor('--user');
  // What is loaded later is loaded now, through the same imports, while the package can surely be read
  // (from a clone under a 0700 /root the user could not).
  if (config.metrics) await loadMetrics();
  if (config.accept.path === 'proxy') await preloadProxyUring();
  // Under socket activation systemd bound the service's sockets already.
  const sockets = config.listenFds ? undefined : await WorkerSockets.bind(calls, config, 1);
  const metricsFd = await dropOnceBound(calls, config, logger, sockets);
  return { config: { ...config, ...sockets?.handOver() }, metricsFd };
}
