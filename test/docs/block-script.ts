// Turns a shell block of the docs into the bash script that runs it as written, as a reader would
// type it: line after line in one shell, except that a command which runs until Ctrl-C (a server, a
// watch, an event stream) is started as if in a terminal of its own and waited for until it is ready,
// the way a reader waits for the server's first line before typing the next command.

// Commands that run until stopped, and what says they are ready: a line of their output, or a new
// listening TCP socket in the namespace (for those that print nothing first).
const TERMINALS: { match: RegExp; ready: RegExp | 'listener' }[] = [
  { match: /^socat TCP-LISTEN/, ready: 'listener' },
  { match: /^systemd-socket-activate /, ready: 'listener' },
  { match: /classic-server\.py/, ready: 'listener' },
  { match: /\bdaytime playground\b/, ready: /token=/ },
  { match: /\bdaytime serve\b(?!.*--inetd)/, ready: /ready/ },
  { match: /\bdaytime watch\b(?!.*(--count|-n)\s+\d)/, ready: /\S/ },
  { match: /^curl\b.*\s-\w*N/, ready: /\S/ },
];

// Commands whose documented outcome is not always exit 0, with the statuses the page allows.
const STATUSES: { match: RegExp; statuses: number[] }[] = [
  // lab.md: against listen(1) some of the hundred clients may time out, and bench then exits 1.
  { match: /^daytime bench :9999 -c 10 --count 100 --timeout 20/, statuses: [0, 1] },
];

// The programs a block may call that the machine may lack: `ci` ones .ci/run installs (missing under
// CI is a failure), the others a block skips without.
export const PEERS: Record<string, { ci: boolean; from: string }> = {
  nc: { ci: true, from: 'netcat-openbsd' },
  rdate: { ci: true, from: 'rdate' },
  socat: { ci: true, from: 'socat' },
  curl: { ci: true, from: 'curl' },
  ss: { ci: true, from: 'iproute2' },
  'systemd-socket-activate': { ci: true, from: 'systemd' },
  haproxy: { ci: true, from: 'haproxy' },
  promtool: { ci: true, from: 'prometheus' },
  python3: { ci: false, from: 'python3' },
  man: { ci: false, from: 'man-db' },
};

// A line without its comment: a # that starts a word, outside quotes.
export function withoutComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

// Commands as the shell reads them: continuation lines joined, blank and comment-only lines kept
// apart (they do nothing, and run as they are).
export function commands(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    current.push(line);
    if (withoutComment(line).endsWith('\\')) continue;
    out.push(current.join('\n'));
    current = [];
  }
  if (current.length > 0) out.push(current.join('\n'));
  return out.filter((c) => c.trim() !== '');
}

// The programs of PEERS a block calls (at a command's start, after a pipe, &&, ;, $( or <( ).
export function peersCalled(text: string): string[] {
  const code = text.split('\n').map(withoutComment).join('\n');
  return Object.keys(PEERS).filter((name) =>
    new RegExp(`(^|[|;&(]\\s*|\\$\\(\\s*|<\\(\\s*|\\s)${name.replace(/[-.]/g, '\\$&')}(\\s|$)`, 'm').test(
      code,
    ),
  );
}

// A word for bash, whatever it holds.
export const quoted = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

// How long a command that runs until stopped may take to be ready.
const READY_SECONDS = 60;

const PRELUDE = `set -eo pipefail
__bg=()
__listeners() { cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A"' | wc -l; }
# pid log pattern listeners-before command: until its output matches (or, with no pattern, until a new
# socket listens), failing if it exits first.
__wait() {
  local i
  for ((i = 0; i < ${READY_SECONDS * 10}; i++)); do
    if [ -n "$3" ]; then grep -Eq -- "$3" "$2" && return 0
    elif [ "$(__listeners)" -gt "$4" ]; then return 0; fi
    kill -0 "$1" 2>/dev/null || { echo "docs: exited before it was ready: $5" >&2; cat "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "docs: not ready after ${READY_SECONDS} s: $5" >&2; cat "$2" >&2; return 1
}
`;

const EPILOGUE = `for __p in "\${__bg[@]}"; do
  kill -0 "$__p" 2>/dev/null || { echo "docs: a command that runs until stopped exited early" >&2; exit 1; }
done
`;

// The script for a block; its long-running commands write to LOGS/N.log.
export function blockScript(text: string, logs: string): string {
  const parts = [PRELUDE];
  commands(text).forEach((command, n) => {
    const code = withoutComment(command.split('\n').at(-1) ?? '');
    const first = withoutComment(command).trim();
    const terminal = TERMINALS.find((t) => t.match.test(first));
    const statuses = STATUSES.find((s) => s.match.test(first))?.statuses;
    if (first !== '') parts.push(`echo ${quoted(`$ ${first}`)} >&2`);
    if (first === '' || code.endsWith('&')) parts.push(command);
    else if (terminal) {
      const log = `${logs}/${n}.log`;
      const pattern = terminal.ready === 'listener' ? '' : terminal.ready.source;
      parts.push(
        `__n=$(__listeners)\n{ ${command}\n} > ${quoted(log)} 2>&1 &\n__bg+=($!)\n` +
          `__wait $! ${quoted(log)} ${quoted(pattern)} "$__n" ${quoted(first)}`,
      );
    } else if (statuses) parts.push(`{ ${command}\n} || [[ " ${statuses.join(' ')} " == *" $? "* ]]`);
    else parts.push(command);
  });
  parts.push(EPILOGUE);
  return parts.join('\n');
}
