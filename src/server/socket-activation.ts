import type { ListenFd } from './options.ts';

// SD_LISTEN_FDS_START: systemd passes its sockets as descriptors 3, 4, ...
const FIRST_FD = 3;

// The sd_listen_fds(3) protocol: when LISTEN_PID is this process, LISTEN_FDS descriptors from 3 on are
// sockets systemd opened for us, named by LISTEN_FDNAMES (the units' FileDescriptorName=). The variables
// are removed so that children (workers) do not take the descriptors for their own.
export function takeListenFds(
  env: NodeJS.ProcessEnv = process.env,
  pid = process.pid,
): ListenFd[] | undefined {
  const count = Number(env.LISTEN_FDS);
  const forUs = Number(env.LISTEN_PID) === pid;
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(count) || count < 1) return undefined;
  return Array.from({ length: count }, (_, i) => ({ fd: FIRST_FD + i, name: names[i] }));
}
