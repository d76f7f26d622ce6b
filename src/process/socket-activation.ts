import { readFileSync } from 'node:fs';
import type { ListenFd } from '../server/options.ts';

// SD_LISTEN_FDS_START: systemd passes its sockets as descriptors 3, 4, ...
const FIRST_FD = 3;

export interface Activation {
  // The sockets to serve; undefined when there are none for this process.
  fds: ListenFd[] | undefined;
  // Why sockets that were passed are not used, for a warning line.
  ignored?: string;
  // Set when they were meant for this server and cannot reach it: serving elsewhere would be wrong.
  lost?: string;
}

// The sd_listen_fds(3) protocol: when LISTEN_PID is this process, LISTEN_FDS descriptors from 3 on are
// sockets systemd opened for us, named by LISTEN_FDNAMES (the units' FileDescriptorName=); for another
// process they are not ours. Under npm (`npx daytime serve`) LISTEN_PID names npm, and npm passes no
// descriptor but 0-2 to what it runs: the sockets meant for this server are lost on the way, which
// `lost` says. The variables are removed so that children (workers) do not take the descriptors.
export function takeListenFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): Activation {
  const { LISTEN_FDS: fdsText, LISTEN_PID: pidText } = env;
  const count = Number(fdsText);
  const owner = Number(pidText);
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  const set = env.LISTEN_PID !== undefined || env.LISTEN_FDS !== undefined;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!set) return { fds: undefined };
  if (env.npm_lifecycle_event !== undefined && npmAncestors(pid).includes(owner)) {
    return {
      fds: undefined,
      lost:
        `the sockets were passed to npm (LISTEN_PID ${owner}), which does not hand them on: ` +
        'start the bin itself, e.g. systemd-socket-activate ... node_modules/.bin/node dist/cli.js serve',
    };
  }
  if (owner !== pid) {
    return {
      fds: undefined,
      ignored: `LISTEN_PID is ${pidText ?? 'unset'}, not this process (${pid}): the sockets passed with LISTEN_FDS are not for it, so it binds --host and --port instead`,
    };
  }
  if (!Number.isInteger(count) || count < 1) {
    return {
      fds: undefined,
      ignored: `LISTEN_FDS is ${JSON.stringify(fdsText ?? '')}: no sockets to serve`,
    };
  }
  return { fds: Array.from({ length: count }, (_, i) => ({ fd: FIRST_FD + i, name: names[i] })) };
}

// The npm processes among this process's nearest ancestors (npm, then its `sh -c`, then us), from
// /proc; empty elsewhere.
function npmAncestors(pid: number): number[] {
  const found: number[] = [];
  for (let current = pid, depth = 0; current > 1 && depth < 3; depth++) {
    try {
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${current}/cmdline`, 'utf8');
      if (/(^|[/\0 ])(npm|npx)(-cli\.js)?( |\0|$)/.test(command)) found.push(current);
    } catch {
      break;
    }
  }
  return found;
}
