import type net from 'node:net';
import { DaytimeError } from '../../errors.ts';
import { loadDatagramCalls } from '../../kernel/mmsg-calls.ts';
import { loadSocketCalls } from '../../kernel/socket-calls.ts';
import { dgramPath } from '../udp/dgram-path.ts';
import { mmsgPath } from '../udp/mmsg-path.ts';
import type { UdpChoice, UdpPath } from '../udp/types.ts';
import { handlePath } from './handle-path.ts';
import { libcPath } from './libc-path.ts';
import { type ProxyPathOptions, proxyPath } from './proxy-path.ts';
import { socketPath } from './socket-path.ts';
import type { AcceptChoice, Acceptor, AcceptPath, ConnectionHooks } from './types.ts';

// The one place the accept path is chosen. `auto` tries the fastest first: libc (koffi and libc's
// symbols must load: Linux), then handle (Node's internals must be as expected), then socket (always).
// A path asked for by name is that path or an error, so a benchmark never measures a silent fallback.
export async function acceptPaths(choice: AcceptChoice, proxy?: ProxyPathOptions): Promise<AcceptPath[]> {
  if (proxy) return [proxyPath(proxy, await loadSocketCalls().catch(() => undefined))];
  if (choice === 'socket') return [socketPath];
  if (choice === 'handle') return [handlePath];
  const libc = await loadSocketCalls().then(libcPath, (error: unknown) => {
    if (choice === 'libc') throw unavailable('libc', error instanceof Error ? error.message : String(error));
    return undefined;
  });
  if (choice === 'libc') return libc ? [libc] : [];
  return [...(libc ? [libc] : []), handlePath, socketPath];
}

// The same for UDP sockets: mmsg (recvmmsg and sendmmsg through koffi: Linux), then dgram (always).
export async function udpPaths(choice: UdpChoice): Promise<UdpPath[]> {
  if (choice === 'dgram') return [dgramPath];
  const mmsg = await loadDatagramCalls().then(mmsgPath, (error: unknown) => {
    if (choice === 'mmsg')
      throw unavailable('mmsg', error instanceof Error ? error.message : String(error), 'UDP path');
    return undefined;
  });
  return choice === 'mmsg' ? (mmsg ? [mmsg] : []) : [...(mmsg ? [mmsg] : []), dgramPath];
}

// Hands a listening server to the first path that can take it.
export function takeListener(server: net.Server, hooks: ConnectionHooks, paths: AcceptPath[]): Acceptor {
  for (const path of paths) {
    const acceptor = path.take(server, hooks);
    if (acceptor) return acceptor;
  }
  throw unavailable(paths.map((p) => p.name).join(', '), 'this Node does not expose what it needs');
}

const unavailable = (name: string, why: string, what = 'accept path') =>
  new DaytimeError('ERR_ACCEPT_PATH_UNAVAILABLE', `the ${name} ${what} cannot run here: ${why}`);
