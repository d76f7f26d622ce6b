import type net from 'node:net';
import { DaytimeError } from '../../errors.ts';
import { loadSocketCalls } from '../../kernel/socket-calls.ts';
import { handlePath } from './handle-path.ts';
import { libcPath } from './libc-path.ts';
import { type ProxyPathOptions, proxyPath } from './proxy-path.ts';
import { socketPath } from './socket-path.ts';
import type { AcceptChoice, Acceptor, AcceptPath, ConnectionHooks } from './types.ts';
import { fallingBack, uringChoice } from './uring-choice.ts';

// The one place the accept path is chosen. `auto` tries the fastest first: uring (io_uring set up and
// used once: uring-choice.ts), then libc (koffi and libc's symbols must load: Linux), then handle (Node's internals must be as expected), then socket (always).
// A path asked for by name is that path or an error, so a benchmark never measures a silent fallback.
export async function acceptPaths(choice: AcceptChoice, proxy?: ProxyPathOptions): Promise<AcceptPath[]> {
  if (proxy) return [proxyPath(proxy, await loadSocketCalls().catch(() => undefined))];
  if (choice === 'socket') return [socketPath];
  if (choice === 'handle') return [handlePath];
  const uring = choice === 'auto' || choice === 'uring' ? await uringChoice() : undefined;
  if (choice === 'uring' && uring && 'fallback' in uring) throw unavailable('uring', uring.fallback.reason);
  if (uring && 'path' in uring && choice === 'uring') return [uring.path];
  const libc = await loadSocketCalls().then(libcPath, (error: unknown) => {
    if (choice === 'libc') throw unavailable('libc', error instanceof Error ? error.message : String(error));
    return undefined;
  });
  if (choice === 'libc') return libc ? [libc] : [];
  const rest = [...(libc ? [libc] : []), handlePath, socketPath];
  if (uring && 'fallback' in uring) return fallingBack(rest, uring.fallback);
  return [...(uring ? [uring.path] : []), ...rest];
}

// Hands a listening server to the first path that can take it.
export function takeListener(server: net.Server, hooks: ConnectionHooks, paths: AcceptPath[]): Acceptor {
  for (const path of paths) {
    const acceptor = path.take(server, hooks);
    if (acceptor) return acceptor;
  }
  throw unavailable(paths.map((p) => p.name).join(', '), 'this Node does not expose what it needs');
}

const unavailable = (name: string, why: string) =>
  new DaytimeError('ERR_ACCEPT_PATH_UNAVAILABLE', `the ${name} accept path cannot run here: ${why}`);
