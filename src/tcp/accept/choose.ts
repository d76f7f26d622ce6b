import type net from 'node:net';
import { DaytimeError } from '../../errors.ts';
import { loadSocketCalls } from '../../kernel/socket-calls.ts';
import { handlePath } from './handle-path.ts';
import { libcPath } from './libc-path.ts';
import { proxyLibcPath } from './proxy-libc-path.ts';
import { proxySocketPath } from './proxy-socket-path.ts';
import { socketPath } from './socket-path.ts';
import {
  type AcceptFallback,
  type Acceptor,
  type AcceptPath,
  type AcceptPlan,
  type ConnectionHooks,
  isAcceptor,
  type ProxyRequirement,
} from './types.ts';
import {
  loadProxyUringPath,
  loadUringAcceptPath,
  loadUringChainPath,
  withUringFallback,
} from './uring-choice.ts';

interface Candidate {
  name: string;
  // Rejects where the path cannot run here (koffi or libc's symbols do not load: not Linux).
  load(): Promise<AcceptPath>;
}

// Every path, fastest first: plain ones, and those that read a PROXY header first.
const PLAIN: Candidate[] = [
  { name: 'uring', load: loadUringChainPath },
  { name: 'uring-accept', load: loadUringAcceptPath },
  { name: 'libc', load: () => loadSocketCalls().then(libcPath) },
  { name: 'handle', load: async () => handlePath },
  { name: 'socket', load: async () => socketPath },
];
const proxied = (proxy: ProxyRequirement): Candidate[] => [
  { name: 'uring', load: () => loadProxyUringPath(proxy) },
  { name: 'libc', load: () => loadSocketCalls().then((calls) => proxyLibcPath(proxy, calls)) },
  {
    name: 'socket',
    load: () =>
      loadSocketCalls().then(
        (calls) => proxySocketPath(proxy, calls),
        () => proxySocketPath(proxy),
      ),
  },
];

// The one place the accept path is chosen. `auto` tries the fastest first; a path asked for by name is
// that path or an error, so a benchmark never measures a silent fallback.
export async function acceptPaths(plan: AcceptPlan): Promise<AcceptPath[]> {
  const candidates = plan.path === 'proxy' ? proxied(plan.proxy) : PLAIN;
  const wanted = plan.path === 'proxy' ? plan.over : plan.path;
  if (wanted !== 'auto') {
    const named = candidates.find((c) => c.name === wanted);
    if (!named) throw unavailable(wanted, 'there is no such path');
    return [await named.load().catch((error: Error) => Promise.reject(unavailable(wanted, error.message)))];
  }
  const loaded = await Promise.all(candidates.map((c) => c.load().catch((error: unknown) => error)));
  // The paths that loaded; where io_uring did not, each says why (uring-choice.ts).
  return withUringFallback(loaded);
}

// Hands a listening server to the first path that can take it. A faster path that could not (io_uring's
// ring refused at run time: RLIMIT_MEMLOCK, descriptors) is named, with why, by the one that did, as a
// path that did not load at all is (uring-choice.ts).
export function takeListener(server: net.Server, hooks: ConnectionHooks, paths: AcceptPath[]): Acceptor {
  const refused: AcceptFallback[] = [];
  for (const path of paths) {
    const taken = path.take(server, hooks);
    if (!isAcceptor(taken)) {
      refused.push(taken);
      continue;
    }
    const fallback = taken.fallback ?? refused[0];
    return fallback ? Object.assign(taken, { fallback }) : taken;
  }
  const why = refused.map((r) => `${r.path}: ${r.reason}`).join('; ');
  throw unavailable(paths.map((p) => p.name).join(', '), why || 'no path was offered');
}

const unavailable = (name: string, why: string) =>
  new DaytimeError('ERR_ACCEPT_PATH_UNAVAILABLE', `the ${name} accept path cannot run here: ${why}`);
