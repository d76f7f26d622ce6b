import { ACCEPT_PATHS, CONNECT_PATHS, UDP_PATHS } from '../../src/index.ts';

// Every accept path that can run on this system: libc needs Linux; the others run anywhere Node does.
export const TESTED_ACCEPT_PATHS = ACCEPT_PATHS.filter(
  (path) => path !== 'libc' || process.platform === 'linux',
);

// Every connect path of the load generator that can run here, likewise.
export const TESTED_CONNECT_PATHS = CONNECT_PATHS.filter(
  (path) => path !== 'libc' || process.platform === 'linux',
);

// Every UDP path that can run here, likewise: mmsg needs Linux.
export const TESTED_UDP_PATHS = UDP_PATHS.filter((path) => path !== 'mmsg' || process.platform === 'linux');
