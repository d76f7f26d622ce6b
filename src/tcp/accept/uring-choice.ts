import { type UringSupport, uringSupport } from '../../kernel/uring-support.ts';
import {
  type AcceptFallback,
  type AcceptPath,
  type AcceptPathName,
  type AcceptPlan,
  isAcceptor,
  type ProxyRequirement,
} from './types.ts';
import { uringAcceptPath } from './uring-accept-path.ts';
import { uringChainPath } from './uring-chain-path.ts';

// io_uring, where it works, is what `auto` tries first: the chains where the kernel can serve a whole
// connection (Linux 6.8), else uring-accept (5.19). The check runs once per process
// (kernel/uring-support.ts); where a faster path is refused, the paths `auto` falls back to carry the
// reason, and the ready line, the stats and the metrics say why the fastest path did not run.

export class UringUnavailable extends Error {
  readonly fallback: AcceptFallback;
  constructor(fallback: AcceptFallback) {
    super(fallback.reason);
    this.fallback = fallback;
  }
}

type Ready = Extract<UringSupport, { ok: true }>;

// `path` over io_uring, or a rejection whose message says why not; `needsChains` for the chain paths.
async function load(path: AcceptPathName, needsChains: boolean, make: (ready: Ready) => AcceptPath) {
  const support = await uringSupport();
  if (!support.ok) throw new UringUnavailable({ path, code: support.code, reason: support.reason });
  if (needsChains && support.chains !== true) throw new UringUnavailable({ path, ...support.chains });
  return make(support);
}

export const loadUringChainPath = () => load('uring', true, (s) => uringChainPath(s.sys, s.calls));
export const loadUringAcceptPath = () => load('uring-accept', false, (s) => uringAcceptPath(s.sys, s.calls));
// The PROXY ring path's module, loaded once through this import (serve --user loads it while still root:
// see observability/load-metrics.ts for why it must be the same import).
let proxyModule: Promise<typeof import('./uring-proxy-path.ts')> | undefined;
export const preloadProxyUring = () => {
  proxyModule ??= import('./uring-proxy-path.ts');
  return proxyModule;
};

export const loadProxyUringPath = async (proxy: ProxyRequirement) => {
  const { proxyUringPath } = await preloadProxyUring();
  return load('proxy-uring', true, (s) => proxyUringPath(proxy, s.sys, s.calls));
};

// The candidates that loaded (an AcceptPath each, or what their load rejected with), each acceptor naming
// the fastest path that could not run, if an io_uring path was one.
export function withUringFallback(loaded: unknown[]): AcceptPath[] {
  const paths = loaded.filter((p): p is AcceptPath => typeof p === 'object' && p !== null && 'take' in p);
  const fallback = loaded.find((p): p is UringUnavailable => p instanceof UringUnavailable)?.fallback;
  if (!fallback) return paths;
  return paths.map((path) => ({
    name: path.name,
    take(server, hooks) {
      const taken = path.take(server, hooks);
      return isAcceptor(taken) ? Object.assign(taken, { fallback }) : taken;
    },
  }));
}

// For the ready line, with --workers too (each worker makes the same check): why `auto` did not take the
// chains here, or undefined.
export async function autoFallback(plan: AcceptPlan): Promise<AcceptFallback | undefined> {
  const auto = plan.path === 'auto' || (plan.path === 'proxy' && plan.over === 'auto');
  if (!auto) return undefined;
  const path = plan.path === 'proxy' ? 'proxy-uring' : 'uring';
  const support = await uringSupport();
  if (!support.ok) return { path, code: support.code, reason: support.reason };
  return support.chains === true ? undefined : { path, ...support.chains };
}
