import { ACCEPT_PATHS } from '../../src/index.ts';

// Every accept path that can run on this system: libc needs Linux; the others run anywhere Node does.
export const TESTED_ACCEPT_PATHS = ACCEPT_PATHS.filter(
  (path) => path !== 'libc' || process.platform === 'linux',
);
