import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { DaytimeError, InvalidOptionError } from '../errors.ts';

// `serve --user NAME [--group NAME]`: bind every socket as root, then become NAME, as inetd, nginx,
// HAProxy and ntpd do, so that ports 13 and 37 need root only for the bind itself.

export interface Account {
  name: string;
  id: number;
}

export interface User extends Account {
  // The user's own (primary) group, from its passwd entry: the group unless --group names another.
  group: Account;
}

// Who the server runs as once its sockets are bound.
export interface Identity {
  user: Account;
  group: Account;
}

// A user or group name, or a number, as `getent` takes them: through the system's name services
// (/etc/passwd, LDAP, systemd's DynamicUser...), not /etc/passwd alone. Bad input when there is no
// such entry, before any socket.
function lookUp(database: 'passwd' | 'group', name: string, value: string): string[] {
  if (!/^[\w.][\w.-]{0,63}\$?$/.test(value))
    throw new InvalidOptionError(name, `a ${database === 'passwd' ? 'user' : 'group'} name or id`, value);
  const result = spawnSync('getent', [database, value], { encoding: 'utf8' });
  if (result.error)
    throw new DaytimeError(
      'ERR_UNSUPPORTED',
      `looking up ${value} needs getent (glibc's or musl's): ${result.error.message}`,
    );
  const fields = result.status === 0 ? result.stdout.split('\n')[0]?.split(':') : undefined;
  if (!fields || fields.length < 4) {
    const what = database === 'passwd' ? 'a user' : 'a group';
    throw new InvalidOptionError(
      name,
      `${what} this system knows (getent ${database} ${value} finds none)`,
      value,
    );
  }
  return fields;
}

export function userOption(name: string, value: string): User {
  const [user = value, , uid, gid = ''] = lookUp('passwd', name, value);
  // A primary group without a group entry (it happens in containers) is named by its number.
  const group = spawnSync('getent', ['group', gid], { encoding: 'utf8' }).stdout?.split(':')[0] || gid;
  return { name: user, id: Number(uid), group: { name: group, id: Number(gid) } };
}

export function groupOption(name: string, value: string): Account {
  const [group = value, , gid] = lookUp('group', name, value);
  return { name: group, id: Number(gid) };
}

// The identity --user and --group make: the user's own group unless --group names one.
export const identityOf = (user: User, group: Account | undefined): Identity => ({
  user: { name: user.name, id: user.id },
  group: group ?? user.group,
});

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
      `cannot switch to ${who}: ${(error as Error).message} (--user needs root, or CAP_SETUID and CAP_SETGID)`,
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
  const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  // CAP_SETGID is bit 6, CAP_SETUID bit 7.
  const effective = capabilities === undefined ? 0n : BigInt(`0x${capabilities}`);
  if ((effective & 0xc0n) === 0xc0n) return undefined;
  return `--user ${identity.user.name} needs root (or CAP_SETUID and CAP_SETGID); this process runs as uid ${euid}`;
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
