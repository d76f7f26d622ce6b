import type { ConnectionHooks } from '../../src/tcp/accept/types.ts';

// Hooks for driving an accept path by hand: every connection admitted and served with `reply`, nothing
// recorded but what a test overrides.
export function plainHooks(reply: Buffer, overrides: Partial<ConnectionHooks> = {}): ConnectionHooks {
  return {
    reply: () => reply,
    admit: () => true,
    full: () => false,
    keep: () => true,
    served: () => {},
    error: () => {},
    acceptError: () => {},
    pending: () => () => {},
    closed: () => {},
    header: () => {},
    refused: () => {},
    ...overrides,
  };
}
