import { test } from 'node:test';
import { ACCEPT_PATHS, CONNECT_PATHS, UDP_PATHS } from '../../src/index.ts';
import { uringSupport } from '../../src/kernel/uring-support.ts';
import { missingPeer } from './peers.ts';

// Why io_uring cannot run here (kernel.io_uring_disabled, a seccomp profile, an old kernel), or
// undefined. The same check the server and the load generator make. Where it cannot, every test of the
// uring paths is left out, and this one test says so: skipped on a developer's machine, failed under CI.
const uring = process.platform === 'linux' ? await uringSupport() : undefined;
export const URING_UNAVAILABLE =
  uring === undefined ? 'io_uring is Linux only' : uring.ok ? undefined : uring.reason;
// Why the kernel cannot serve whole connections in the ring here (the uring path's chains, Linux 6.8).
export const CHAINS_UNAVAILABLE =
  URING_UNAVAILABLE ?? (uring?.ok && uring.chains !== true ? uring.chains.reason : undefined);
if (URING_UNAVAILABLE) test('the uring paths', (t) => missingPeer(t, URING_UNAVAILABLE));
else if (CHAINS_UNAVAILABLE) test('the uring chains', (t) => missingPeer(t, CHAINS_UNAVAILABLE));

const runs = (path: string) =>
  (path !== 'libc' || process.platform === 'linux') &&
  (path !== 'uring-accept' || URING_UNAVAILABLE === undefined) &&
  (path !== 'uring' || CHAINS_UNAVAILABLE === undefined);

// Every accept path that can run on this system: uring needs io_uring with chains (6.8), uring-accept
// io_uring (5.19), libc Linux; the others run anywhere Node does.
export const TESTED_ACCEPT_PATHS = ACCEPT_PATHS.filter(runs);
// What `--accept auto` takes here: the first that runs.
export const AUTO_ACCEPT_PATH = TESTED_ACCEPT_PATHS[0];

// Every connect path of the load generator that can run here, likewise, and what `auto` takes.
export const TESTED_CONNECT_PATHS = CONNECT_PATHS.filter(
  (path) =>
    (path !== 'libc' || process.platform === 'linux') &&
    (path !== 'uring' || URING_UNAVAILABLE === undefined),
);
export const AUTO_CONNECT_PATH = TESTED_CONNECT_PATHS[0];

// Every UDP path that can run here, likewise: mmsg needs Linux.
export const TESTED_UDP_PATHS = UDP_PATHS.filter((path) => path !== 'mmsg' || process.platform === 'linux');
