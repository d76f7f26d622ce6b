import { uringSupport } from '../../kernel/uring-support.ts';
import { type AcceptFallback, type AcceptPath, type AcceptPlan, isAcceptor } from './types.ts';
import { uringPath } from './uring-path.ts';

// io_uring, where it works, is the first path `auto` tries. The check runs once per process
// (kernel/uring-support.ts); where io_uring is refused, the paths `auto` falls back to carry the reason,
// and the ready line, the stats and the metrics say why the fastest path did not run.

class UringUnavailable extends Error {
  readonly fallback: AcceptFallback;
  constructor(fallback: AcceptFallback) {
    super(fallback.reason);
    this.fallback = fallback;
  }
}

// The uring path, or a rejection whose message says why not.
export async function loadUringPath(): Promise<AcceptPath> {
  const support = await uringSupport();
  if (support.ok) return uringPath(support.sys, support.calls);
  throw new UringUnavailable({ path: 'uring', code: support.code, reason: support.reason });
}

// The candidates that loaded (an AcceptPath each, or what their load rejected with), each acceptor naming
// the faster path that could not run, if io_uring was one.
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

// For the ready line, with --workers too (each worker makes the same check): why `auto` did not take
// io_uring here, or undefined.
export async function autoFallback(plan: AcceptPlan): Promise<AcceptFallback | undefined> {
  if (plan.path !== 'auto') return undefined;
  const support = await uringSupport();
  return support.ok ? undefined : { path: 'uring', code: support.code, reason: support.reason };
}
