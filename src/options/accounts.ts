import { spawnSync } from 'node:child_process';
import { DaytimeError, InvalidOptionError } from '../errors.ts';

// The accounts `serve --user NAME [--group NAME]` names, looked up and checked with the other options,
// before any socket; process/privileges.ts becomes them once every socket is bound.

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
// A name as the name services give them: POSIX's portable characters, and `@` for the user@domain of
// SSSD or winbind; nothing a shell or getent would take for something else.
const ACCOUNT = /^[\w.][\w.@-]{0,255}\$?$/;
// A name service that does not answer (an LDAP server away) must not hold the start for ever.
const LOOKUP_TIMEOUT_MS = 10_000;

function getent(database: 'passwd' | 'group', value: string): string[] | undefined {
  const result = spawnSync('getent', [database, value], { encoding: 'utf8', timeout: LOOKUP_TIMEOUT_MS });
  if (result.error) {
    const why =
      (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
        ? `getent ${database} ${value} did not answer within ${LOOKUP_TIMEOUT_MS / 1000} s (a name service away?)`
        : `looking up ${value} needs getent (glibc's or musl's): ${result.error.message}`;
    throw new DaytimeError('ERR_UNSUPPORTED', why);
  }
  const fields = result.status === 0 ? result.stdout.split('\n')[0]?.split(':') : undefined;
  return fields && fields.length >= 4 ? fields : undefined;
}

function lookUp(database: 'passwd' | 'group', name: string, value: string): string[] {
  if (!ACCOUNT.test(value))
    throw new InvalidOptionError(name, `a ${database === 'passwd' ? 'user' : 'group'} name or id`, value);
  const fields = getent(database, value);
  if (!fields) {
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
  const group = getent('group', gid)?.[0] || gid;
  return { name: user, id: Number(uid), group: { name: group, id: Number(gid) } };
}

// A group by name, or by number: a number with no group entry is still a gid the kernel takes, as a
// user's primary group without an entry is (userOption), so both ways of naming it agree.
export function groupOption(name: string, value: string): Account {
  if (/^\d{1,10}$/.test(value) && Number(value) < 2 ** 32 - 1) {
    const [group = value] = getent('group', value) ?? [];
    return { name: group, id: Number(value) };
  }
  const [group = value, , gid] = lookUp('group', name, value);
  return { name: group, id: Number(gid) };
}

// The identity --user and --group make: the user's own group unless --group names one.
export const identityOf = (user: User, group: Account | undefined): Identity => ({
  user: { name: user.name, id: user.id },
  group: group ?? user.group,
});
