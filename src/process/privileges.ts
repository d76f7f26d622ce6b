import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { DaytimeError } from '../errors.ts';
import type { Identity } from '../options/accounts.ts';

// `serve --user NAME [--group NAME]`: bind every socket as root, then become NAME, as inetd, nginx,
// HAProxy and ntpd do, so that ports 13 and 37 need root only for the bind itself.

// What a process is (this one by default): its uids and gids (real, effective, saved, filesystem) and
// its supplementary groups as the kernel lists them (process.getgroups() adds the effective group to
// the list, which the kernel does not).
export function processIds(pid: number | 'self' = 'self'): {
  uids: number[];
  gids: number[];
  groups: number[];
} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (key: string) =>
    (new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  return { uids: field('Uid'), gids: field('Gid'), groups: field('Groups') };
}

// Already running as the identity, with no supplementary groups: a worker, whose primary dropped before
// starting it.
function holds(identity: Identity): boolean {
  const { uids, gids, groups } = processIds();
  return (
    uids.every((id) => id === identity.user.id) &&
    gids.every((id) => id === identity.group.id) &&
    groups.length === 0
  );
}

// Becomes the identity, for good: supplementary groups first (only root may change them), then the
// group (only while still root), then the user, which for root sets the real, effective and saved uid
// at once, so there is no way back. Then checks that it holds, and that root cannot be had again.
export function dropPrivileges(identity: Identity): void {
  if (holds(identity)) return;
  const who = `user ${identity.user.name} (uid ${identity.user.id}), group ${identity.group.name} (gid ${identity.group.id})`;
  try {
    process.setgroups?.([]);
    process.setgid?.(identity.group.id);
    process.setuid?.(identity.user.id);
  } catch (error) {
    throw new DaytimeError(
      'ERR_PRIVILEGES',
      `cannot switch to ${who}: ${(error as Error).message} (--user needs root)`,
      { cause: error },
    );
  }
  if (!holds(identity))
    throw new DaytimeError('ERR_PRIVILEGES', `switched to ${who}, but /proc/self/status says otherwise`);
  if (identity.user.id !== 0 && regainsRoot())
    throw new DaytimeError('ERR_PRIVILEGES', `switched to ${who}, but could become root again`);
}

function regainsRoot(): boolean {
  try {
    process.setuid?.(0);
    return true;
  } catch {
    return false;
  }
}

// Why --user cannot work in this process, before any socket is bound; undefined when it can. The switch
// itself is the final check (a capability set can allow what the uid alone does not).
export function cannotSwitch(identity: Identity): string | undefined {
  if (!process.setuid || !process.setgroups) return '--user needs a POSIX system';
  if (holds(identity)) return undefined;
  const euid = process.geteuid?.();
  if (euid === 0) return undefined;
  // Not root: CAP_SETUID and CAP_SETGID would let the switch happen, but they outlive it (the process
  // never had uid 0 to lose them with), so it could become root again: refused before any socket, as
  // dropPrivileges would refuse it after the bind.
  return `--user ${identity.user.name} needs root; this process runs as uid ${euid}`;
}

// The first path the identity could not reach: a directory on the way it may not search, or the file
// it may not read (and, with `execute`, run). Mode bits only (no ACLs), as the kernel checks them for a
// process with this uid and gid and no supplementary groups. Undefined: it can.
export function unreachableBy(identity: Identity, file: string, execute = false): string | undefined {
  if (identity.user.id === 0) return undefined;
  const allowed = (path: string, bits: number) => {
    const stat = statSync(path);
    const shift = stat.uid === identity.user.id ? 6 : stat.gid === identity.group.id ? 3 : 0;
    return ((stat.mode >> shift) & bits) === bits;
  };
  const real = realpathSync(resolve(file));
  const parts = real.split(sep).filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const path = `${sep}${parts.slice(0, i).join(sep)}`;
    if (!allowed(path, 1)) return path;
  }
  return allowed(real, execute ? 5 : 4) ? undefined : real;
}
