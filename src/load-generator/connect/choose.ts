import { DaytimeError } from '../../errors.ts';
import { loadSocketCalls } from '../../kernel/socket-calls.ts';
import { uringSupport } from '../../kernel/uring-support.ts';
import type { ConnectChoice, ConnectPathName, Counts, LoopConfig, LoopResult } from '../tally.ts';
import { runAttemptLoop } from './attempt-loop.ts';
import { handleAttempts } from './handle-attempts.ts';
import { detectFastConnect } from './handle-internals.ts';
import { runLibcLoop } from './libc-loop.ts';
import { socketAttempts } from './socket-attempts.ts';
import { runUringLoop } from './uring-loop.ts';

// The one place the connect path is chosen, once per run. `auto` takes the fastest that runs here:
// uring (io_uring set up and used once: kernel/uring-support.ts), libc (koffi and libc's symbols load:
// Linux; both need a numeric address without a zone), then handle (Node's internals as expected), then
// socket (always). A path asked for by name is that one or an error.
export async function chooseConnectPath(choice: ConnectChoice, address: string): Promise<ConnectPathName> {
  if (choice === 'auto' || choice === 'uring') {
    const support = await uringSupport();
    const reason = !support.ok ? support.reason : address.includes('%') ? 'a zoned address' : '';
    if (!reason) return 'uring';
    if (choice === 'uring') throw unavailable('uring', reason);
  }
  if (choice === 'auto' || choice === 'libc') {
    const calls = await loadSocketCalls().catch((error: unknown) => error as Error);
    const reason = calls instanceof Error ? calls.message : address.includes('%') ? 'a zoned address' : '';
    if (!reason) return 'libc';
    if (choice === 'libc') throw unavailable('libc', reason);
  }
  if (choice === 'auto' || choice === 'handle') {
    if (detectFastConnect()) return 'handle';
    if (choice === 'handle') throw unavailable('handle', "this Node's internals are not as expected");
  }
  return 'socket';
}

// Runs one closed loop of connections on the path chosen for the run.
export async function runLoop(config: LoopConfig, signal: AbortSignal, counts: Counts): Promise<LoopResult> {
  if (config.connect === 'libc') return runLibcLoop(await loadSocketCalls(), config, signal, counts);
  if (config.connect === 'uring') {
    const support = await uringSupport();
    if (!support.ok) throw unavailable('uring', support.reason);
    return runUringLoop(support, config, signal, counts);
  }
  const fast = config.connect === 'handle' ? detectFastConnect() : undefined;
  return fast
    ? runAttemptLoop(config, signal, counts, 'handle', handleAttempts(fast, config))
    : runAttemptLoop(config, signal, counts, 'socket', socketAttempts(config));
}

const unavailable = (name: string, why: string) =>
  new DaytimeError('ERR_CONNECT_PATH_UNAVAILABLE', `the ${name} connect path cannot run here: ${why}`);
