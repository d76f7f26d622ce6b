import { uringSupport } from '../../kernel/uring-support.ts';
import type { AcceptFallback, AcceptPath } from './types.ts';
import { uringPath } from './uring-path.ts';

// io_uring, where it works, is the first path `auto` tries. The check runs once per process
// (kernel/uring-support.ts); where io_uring is refused, the paths `auto` falls back to carry the reason,
// and the ready line, the stats and the metrics say why the fastest path did not run.
export async function uringChoice(): Promise<{ path: AcceptPath } | { fallback: AcceptFallback }> {
  const support = await uringSupport();
  if (support.ok) return { path: uringPath(support.sys, support.calls) };
  return { fallback: { path: 'uring', code: support.code, reason: support.reason } };
}

// The same paths, each acceptor naming the faster path that could not run.
export function fallingBack(paths: AcceptPath[], fallback: AcceptFallback): AcceptPath[] {
  return paths.map((path) => ({
    name: path.name,
    take(server, hooks) {
      const acceptor = path.take(server, hooks);
      return acceptor && Object.assign(acceptor, { fallback });
    },
  }));
}

// For the ready line: "io_uring not used: REASON".
export const describeFallback = (fallback: AcceptFallback) => `${fallback.path} not used: ${fallback.reason}`;
